using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>The app setting that names the build a connector's Function app runs.</summary>
public static class ProjectVersionSetting
{
    /// <summary>The setting's name, <c>PROJECT_VERSION</c>.</summary>
    public const string Name = "PROJECT_VERSION";
}
