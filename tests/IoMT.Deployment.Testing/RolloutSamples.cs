using System.Globalization;

namespace IoMT.Deployment.Testing;

/// <summary>Rollout records and pins for version store tests: every field set, every enum value used.</summary>
public static class RolloutSamples
{
    /// <summary>A time with an offset, so a store that drops offsets shows it.</summary>
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.FromHours(2));

    /// <summary>A version state with a full rollout record and pins.</summary>
    public static VersionState State(int waves = 3, int failedConnectors = 3, int commands = 3, int pins = 3, int reasonLength = 40, int pinReasonLength = 30) => new()
    {
        Current = BuildNumber.Parse("20260301.1"),
        InFlight = BuildNumber.Parse("20260301.2"),
        Invalidated = [new BuildInvalidation(BuildNumber.Parse("20260228.9"), "crashes on start", T0, "oncall@contoso.com")],
        UpdatedAt = T0.AddMinutes(90),
        Rollout = Record(waves, failedConnectors, commands, reasonLength),
        Pins = Pins(pins, pinReasonLength),
    };

    /// <summary>A rollout record with every field set to something other than its default.</summary>
    public static RolloutRecord Record(int waves = 3, int failedConnectors = 3, int commands = 3, int reasonLength = 40)
    {
        var waveStatuses = Enum.GetValues<WaveStatus>();
        var actions = Enum.GetValues<OperatorAction>();
        return new RolloutRecord
        {
            Id = "rollout-20260301.2-0f3a",
            Target = BuildNumber.Parse("20260301.2"),
            From = BuildNumber.Parse("20260301.1"),
            Fingerprint = "sha256:5d41402abc4b2a76b9719d911017c592",
            Status = RolloutStatus.Paused,
            StatusReason = Text("no health data for wave early", reasonLength),
            PausedFrom = RolloutStatus.Baking,
            Wave = waves - 1,
            BakeUntil = T0.AddHours(2),
            PromoteRequested = true,
            PromoteFull = true,
            AbortRequested = true,
            StartedAt = T0,
            UpdatedAt = T0.AddMinutes(75),
            Waves = [.. Enumerable.Range(0, waves).Select(i => new WaveRecord
            {
                Name = i == 0 ? "canary" : Invariant($"wave-{i}"),
                Status = waveStatuses[i % waveStatuses.Length],
                Connectors = 2000 + i,
                Updated = 1990 + i,
                Failed = 3 + i,
                Transient = 4 + i,
                Unhealthy = 5 + i,
                NoData = 6 + i,
                Deleted = 7 + i,
                Attempts = 1 + i,
                StartedAt = T0.AddMinutes(10 * i),
                VerifiedAt = T0.AddMinutes((10 * i) + 5),
                Verdict = Text(Invariant($"wave {i}: 3 failed of 2000 (max 5%), 5 unhealthy"), reasonLength),
            })],
            FailedConnectors = [.. Enumerable.Range(0, failedConnectors).Select(i => new FailedConnector(
                Invariant($"contoso-iomt-{i:D5}"),
                i % 2 == 0 ? "canary" : "wave-1",
                Text(Invariant($"Kudu zip deploy of connector {i} returned HTTP 500: "), reasonLength)))],
            Commands = [.. Enumerable.Range(0, commands).Select(i => new OperatorCommand(
                actions[i % actions.Length],
                Invariant($"operator{i}@contoso.com"),
                i == 1 ? null : Text(Invariant($"command {i}: "), reasonLength),
                T0.AddMinutes(i)))],
        };
    }

    /// <summary>Pins, every other one an exclusion.</summary>
    public static IReadOnlyList<ConnectorPin> Pins(int count, int reasonLength = 30) =>
        [.. Enumerable.Range(0, count).Select(i => new ConnectorPin(
            Invariant($"fabrikam-iomt-{i:D5}"),
            i % 2 == 0 ? BuildNumber.Parse("20260201.7") : null,
            Text(Invariant($"pin {i}: "), reasonLength),
            "release-manager@contoso.com",
            T0.AddSeconds(i)))];

    /// <summary>Text of exactly <paramref name="length"/> characters starting with <paramref name="prefix"/>.</summary>
    public static string Text(string prefix, int length) =>
        prefix.Length >= length ? prefix[..length] : prefix + new string('x', length - prefix.Length);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
