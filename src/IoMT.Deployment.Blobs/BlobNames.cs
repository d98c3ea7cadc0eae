namespace IoMT.Deployment.Blobs;

/// <summary>Azure Blob Storage naming rules.</summary>
internal static class BlobNames
{
    /// <summary>3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.</summary>
    public const string ContainerNamePattern = "^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$";

    /// <summary>The failure of <see cref="ContainerNamePattern"/>; <c>{0}</c> is the setting's key.</summary>
    public const string ContainerNameRule =
        "{0} must be a legal blob container name: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.";
}
