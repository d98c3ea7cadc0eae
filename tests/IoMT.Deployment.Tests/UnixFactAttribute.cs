namespace IoMT.Deployment.Tests;

/// <summary>A fact that needs Unix file modes: reported as skipped (not silently passed) on Windows.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    /// <summary>Creates the attribute, skipping the test on Windows.</summary>
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file modes do not exist on Windows.";
        }
    }
}
