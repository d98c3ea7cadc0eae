using System.ComponentModel.DataAnnotations;
using IoMT.Deployment.Composition;

namespace IoMT.Deployment.Blobs;

/// <summary>Options of the blob artifact container, shared by <see cref="BlobArtifactSource"/> and <see cref="BlobArtifactPublisher"/>.</summary>
[OptionsSection(SectionName)]
public sealed class BlobArtifactOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Blobs";

    /// <summary>The default artifact container name.</summary>
    public const string DefaultContainerName = "iomtconnector";

    /// <summary>The blob metadata key under which the package's lowercase hex SHA-256 is recorded at delivery.</summary>
    public const string Sha256MetadataKey = "sha256";

    /// <summary>Gets or sets the artifact container's name.</summary>
    /// <value>Defaults to <c>iomtconnector</c>. Ignored when the container client itself is supplied at composition.</value>
    [Required(ErrorMessage = "{0} is required.")]
    [RegularExpression(BlobNames.ContainerNamePattern, ErrorMessage = BlobNames.ContainerNameRule)]
    public string ContainerName { get; set; } = DefaultContainerName;

    /// <summary>Gets or sets how many blobs one listing request asks for.</summary>
    /// <value>Defaults to 5000, the service maximum.</value>
    [Range(1, 5000, ErrorMessage = "{0} must be between 1 and 5000.")]
    public int ListPageSize { get; set; } = 5000;

    /// <summary>Gets or sets the size of each block when a package is uploaded in blocks.</summary>
    /// <value>
    /// Defaults to 8 MiB. Between 64 KiB and 4000 MiB. Blocks are read into pooled buffers, at most
    /// <see cref="UploadConcurrency"/> + 1 at a time; a size above 1 GiB is sent as blocks of 1 GiB.
    /// </value>
    [Range(64 * 1024, 4000L * 1024 * 1024, ErrorMessage = "{0} must be between 65536 bytes (64 KiB) and 4194304000 bytes (4000 MiB).")]
    public long UploadBlockSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Gets or sets the largest package uploaded in a single request; larger packages go up in blocks of <see cref="UploadBlockSize"/>.</summary>
    /// <value>
    /// Defaults to 8 MiB. Between 64 KiB and 5000 MiB. A package read from a stream that cannot seek goes up in a single
    /// request only when it also fits one block.
    /// </value>
    [Range(64 * 1024, 5000L * 1024 * 1024, ErrorMessage = "{0} must be between 65536 bytes (64 KiB) and 5242880000 bytes (5000 MiB).")]
    public long SingleUploadThreshold { get; set; } = 8 * 1024 * 1024;

    /// <summary>Gets or sets how many blocks of one package are uploaded at the same time.</summary>
    /// <value>Defaults to 4. The package is read (and hashed) at most one block ahead of the blocks in flight.</value>
    [Range(1, 64, ErrorMessage = "{0} must be between 1 and 64.")]
    public int UploadConcurrency { get; set; } = 4;

    /// <summary>
    /// Gets or sets a value indicating whether the publisher creates the container when it is missing. The read side
    /// never creates it.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: in Azure the container is provisioned with the pipeline's write-only access; turn it on for emulators and local runs.</value>
    public bool CreateIfMissing { get; set; }
}
