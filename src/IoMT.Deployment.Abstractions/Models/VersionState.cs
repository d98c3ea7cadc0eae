using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>
/// The global database's record of the fleet's code: the current build, the target of an unfinished rollout, and the
/// invalidated builds. Immutable; change it with <c>with</c> expressions and write it back with its ETag.
/// </summary>
public sealed record VersionState
{
    /// <summary>An empty state: nothing deployed, nothing in flight, nothing invalidated.</summary>
    public static VersionState Empty { get; } = new();

    /// <summary>Gets the build every connector runs once the last rollout finished, or <see langword="null"/> before the first.</summary>
    public BuildNumber? Current { get; init; }

    /// <summary>Gets the target of an unfinished rollout, or <see langword="null"/> when none is unfinished.</summary>
    public BuildNumber? InFlight { get; init; }

    /// <summary>Gets the invalidated builds; the hourly check never picks one of them.</summary>
    public IReadOnlyList<BuildInvalidation> Invalidated { get; init; } = [];

    /// <summary>Gets when the state was last changed.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>Gets the latest progressive rollout (active or finished), or <see langword="null"/> before the first.</summary>
    public RolloutRecord? Rollout { get; init; }

    /// <summary>Gets the connectors held on a build or excluded from rollouts.</summary>
    public IReadOnlyList<ConnectorPin> Pins { get; init; } = [];

    /// <summary>Finds a connector's pin.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <returns>The pin, or <see langword="null"/> when the connector is not pinned.</returns>
    public ConnectorPin? PinOf(string connectorId)
    {
        foreach (var pin in Pins)
        {
            if (string.Equals(pin.Connector, connectorId, StringComparison.Ordinal))
            {
                return pin;
            }
        }

        return null;
    }

    /// <summary>Returns this state with a connector's pin set (replacing any earlier pin of it).</summary>
    /// <param name="pin">The pin.</param>
    /// <returns>The new state.</returns>
    public VersionState WithPin(ConnectorPin pin)
    {
        ArgumentNullException.ThrowIfNull(pin);
        return this with { Pins = [.. Pins.Where(p => !string.Equals(p.Connector, pin.Connector, StringComparison.Ordinal)), pin] };
    }

    /// <summary>Returns this state without a connector's pin.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <returns>The new state.</returns>
    public VersionState WithoutPin(string connectorId) =>
        this with { Pins = [.. Pins.Where(p => !string.Equals(p.Connector, connectorId, StringComparison.Ordinal))] };

    /// <summary>Tells whether a build is invalidated.</summary>
    /// <param name="build">The build.</param>
    /// <returns><see langword="true"/> when the build is invalidated.</returns>
    public bool IsInvalidated(BuildNumber build)
    {
        foreach (var invalidation in Invalidated)
        {
            if (invalidation.Build == build)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns this state with a build invalidated (unchanged if it already is).</summary>
    /// <param name="invalidation">The invalidation.</param>
    /// <returns>The new state.</returns>
    public VersionState WithInvalidated(BuildInvalidation invalidation)
    {
        ArgumentNullException.ThrowIfNull(invalidation);
        return IsInvalidated(invalidation.Build) ? this : this with { Invalidated = [.. Invalidated, invalidation] };
    }

    /// <summary>Returns this state with a build's invalidation removed.</summary>
    /// <param name="build">The build to reinstate.</param>
    /// <returns>The new state.</returns>
    public VersionState WithReinstated(BuildNumber build) =>
        this with { Invalidated = [.. Invalidated.Where(i => i.Build != build)] };
}
