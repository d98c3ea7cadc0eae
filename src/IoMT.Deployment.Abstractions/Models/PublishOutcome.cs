using System.Security.Cryptography;

namespace IoMT.Deployment;

/// <summary>What <see cref="IArtifactPublisher.PublishAsync"/> did.</summary>
public enum PublishOutcome
{
    /// <summary>The build was written.</summary>
    Created,

    /// <summary>The build already existed with the same bytes; nothing was written.</summary>
    AlreadyExists,
}
