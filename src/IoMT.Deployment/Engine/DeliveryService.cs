using IoMT.Deployment.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment;

/// <summary>What a delivery did.</summary>
public enum DeliveryOutcome
{
    /// <summary>The build was written to the artifact store.</summary>
    Delivered,

    /// <summary>The build was already delivered with the same bytes; nothing was written.</summary>
    AlreadyDelivered,

    /// <summary>With <c>ifChanged</c>: the content equals the newest delivered build; nothing was written.</summary>
    Unchanged,
}

/// <summary>The result of a delivery.</summary>
/// <param name="Build">The build.</param>
/// <param name="Outcome">What was done.</param>
/// <param name="Sha256">The package's SHA-256.</param>
/// <param name="Size">The package's size in bytes.</param>
/// <param name="NewestBuild">With <see cref="DeliveryOutcome.Unchanged"/>: the newest delivered build whose content is the same.</param>
public sealed record DeliveryResult(BuildNumber Build, DeliveryOutcome Outcome, string Sha256, long Size, BuildNumber? NewestBuild = null);

/// <summary>The pipeline's delivery step: checks a package and publishes it, optionally only when its content changed.</summary>
public sealed class DeliveryService
{
    private readonly IArtifactPublisher _publisher;
    private readonly ILogger<DeliveryService> _logger;

    /// <summary>Creates the service.</summary>
    /// <param name="publisher">The artifact container's write side.</param>
    /// <param name="logger">The logger.</param>
    public DeliveryService(IArtifactPublisher publisher, ILogger<DeliveryService> logger)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        ArgumentNullException.ThrowIfNull(logger);
        _publisher = publisher;
        _logger = logger;
    }

    /// <summary>Delivers a package as <c>{build}.zip</c>.</summary>
    /// <param name="build">The CI build number.</param>
    /// <param name="package">The zip bytes.</param>
    /// <param name="ifChanged">Deliver only when the content differs from the newest delivered build.</param>
    /// <param name="cancellationToken">Cancels the delivery.</param>
    /// <returns>What was done.</returns>
    /// <exception cref="InvalidPackageException">The bytes are not a valid zip; nothing was written.</exception>
    /// <exception cref="ArtifactConflictException">The build exists with other bytes; nothing was written.</exception>
    public async Task<DeliveryResult> DeliverAsync(BuildNumber build, byte[] package, bool ifChanged = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (build.IsDefault)
        {
            throw new ArgumentException("A build number is required.", nameof(build));
        }

        ZipPackage.EnsureZip(package, build, readEntries: true);
        var sha256 = ContentHash.Sha256Hex(package);
        if (ifChanged)
        {
            var newest = await _publisher.GetNewestAsync(cancellationToken).ConfigureAwait(false);
            if (newest is not null && newest.Build != build && ContentHash.AreEqual(newest.Sha256, sha256))
            {
                Log.DeliveryUnchanged(_logger, build.ToString(), newest.Build.ToString());
                return new DeliveryResult(build, DeliveryOutcome.Unchanged, sha256, package.LongLength, newest.Build);
            }
        }

        using var stream = new MemoryStream(package, writable: false);
        var result = await _publisher.PublishAsync(build, stream, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == PublishOutcome.Created)
        {
            Log.BuildDelivered(_logger, build.ToString(), result.Size, result.Sha256);
            return new DeliveryResult(build, DeliveryOutcome.Delivered, result.Sha256, result.Size);
        }

        Log.DeliveryAlreadyExists(_logger, build.ToString());
        return new DeliveryResult(build, DeliveryOutcome.AlreadyDelivered, result.Sha256, result.Size);
    }
}
