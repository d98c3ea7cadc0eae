using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>What the verification after a rollout found on one connector.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VerificationOutcome>))]
public enum VerificationOutcome
{
    /// <summary><c>PROJECT_VERSION</c> equals the target.</summary>
    Verified,

    /// <summary><c>PROJECT_VERSION</c> differs from the target (or could not be read); see the actual value.</summary>
    Mismatch,

    /// <summary>The connector is gone.</summary>
    Deleted,

    /// <summary>The connector is excluded from rollouts; its version is not judged.</summary>
    Excluded,
}
