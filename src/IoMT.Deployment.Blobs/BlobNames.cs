namespace IoMT.Deployment.Blobs;

/// <summary>Azure Blob Storage naming rules.</summary>
internal static class BlobNames
{
    /// <summary>3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.</summary>
    public const string ContainerNamePattern = "^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$";

    public const string ContainerNameRule =
        "IoMTDeployment:Blobs:ContainerName must be a legal blob container name: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.";

    public const string LockContainerNameRule =
        "IoMTDeployment:BlobLock:ContainerName must be a legal blob container name: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.";
}
