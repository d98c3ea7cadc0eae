using System.ComponentModel.DataAnnotations;
using IoMT.Deployment.Composition;
using static IoMT.Deployment.Composition.DeploymentOptionsValidation;

namespace IoMT.Deployment.Blobs;

/// <summary>Options of <see cref="BlobRolloutLock"/>, the one-active-rollout lock held as a blob lease.</summary>
[OptionsSection(SectionName)]
public sealed class BlobRolloutLockOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:BlobLock";

    /// <summary>The default container of the lock blob.</summary>
    public const string DefaultContainerName = "iomt-rollout-lock";

    /// <summary>The default name of the lock blob.</summary>
    public const string DefaultLockBlobName = "rollout.lock";

    /// <summary>Gets or sets the container that holds the lock blob; it is created when missing.</summary>
    /// <value>
    /// Defaults to <c>iomt-rollout-lock</c>, a container apart from the artifact container, because the worker needs
    /// write access (a lease) to the lock but only read access to the artifacts. Ignored when the container client itself
    /// is supplied at composition.
    /// </value>
    [Required(ErrorMessage = "{0} is required.")]
    [RegularExpression(BlobNames.ContainerNamePattern, ErrorMessage = BlobNames.ContainerNameRule)]
    public string ContainerName { get; set; } = DefaultContainerName;

    /// <summary>Gets or sets the name of the lock blob; it is created (empty) when missing.</summary>
    /// <value>Defaults to <c>rollout.lock</c>.</value>
    [Required(ErrorMessage = "{0} is required.")]
    [StringLength(1024, MinimumLength = 1, ErrorMessage = "{0} must be 1 to 1024 characters long.")]
    public string LockBlobName { get; set; } = DefaultLockBlobName;

    /// <summary>Gets or sets the duration of the blob lease; a holder that stops renewing loses the lock after it.</summary>
    /// <value>Defaults to 60 seconds, the longest finite lease. Between 15 and 60 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:15", "00:01:00", ErrorMessage = "{0} must be between 15 and 60 seconds.")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets how often a held lease is renewed in the background.</summary>
    /// <value>Defaults to 20 seconds. At least 1 second and shorter than <see cref="LeaseDuration"/>.</value>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "{0} must be between 1 and 60 seconds.")]
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Gets or sets how long before the lease can expire the holder gives it up when it could not renew it:
    /// <see cref="IRolloutLease.LeaseLost"/> fires this long before the earliest moment the storage service may let the
    /// lease expire, so that the rollout stops starting connector operations before another replica can take the lock.
    /// </summary>
    /// <value>
    /// Defaults to 10 seconds. Between 1 and 30 seconds, and <see cref="RenewInterval"/> plus the margin must be shorter
    /// than <see cref="LeaseDuration"/>. The lease's expiry is counted from the moment the last successful acquire or
    /// renewal request was sent, which is never later than the service's own count. Each renewal attempt is bounded by
    /// <see cref="RenewInterval"/> and by that deadline, whatever the storage client's own retry settings are.
    /// </value>
    [Range(typeof(TimeSpan), "00:00:01", "00:00:30", ErrorMessage = "{0} must be between 1 and 30 seconds.")]
    public TimeSpan SafetyMargin { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long releasing the lease at the end of a rollout may take before it is left to expire on its own.</summary>
    /// <value>
    /// Defaults to 5 seconds. Between 1 and 60 seconds. A release that fails or times out is logged as a warning and
    /// never changes the rollout's outcome: the lease expires after <see cref="LeaseDuration"/>.
    /// </value>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "{0} must be between 1 and 60 seconds.")]
    public TimeSpan ReleaseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RenewInterval >= LeaseDuration)
        {
            yield return new ValidationResult(
                $"{Key(validationContext, nameof(RenewInterval))} ({RenewInterval}) must be shorter than {Key(validationContext, nameof(LeaseDuration))} ({LeaseDuration}), or the lease expires between renewals.",
                [nameof(RenewInterval)]);
        }
        else if (RenewInterval + SafetyMargin >= LeaseDuration)
        {
            yield return new ValidationResult(
                $"{Key(validationContext, nameof(RenewInterval))} ({RenewInterval}) plus {Key(validationContext, nameof(SafetyMargin))} ({SafetyMargin}) must be shorter than {Key(validationContext, nameof(LeaseDuration))} ({LeaseDuration}), or a renewal has no time left before the lease is given up.",
                [nameof(RenewInterval), nameof(SafetyMargin)]);
        }
    }
}
