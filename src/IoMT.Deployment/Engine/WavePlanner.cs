using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace IoMT.Deployment;

/// <summary>
/// Assigns connectors to the waves of <see cref="RolloutOptions.Waves"/>: pure, deterministic, independent of listing order.
/// A connector belongs to the first wave that selects it (canary flag, tag, explicit id, or cumulative percent by a stable
/// salted hash of its id); connectors no wave selects belong to the last wave. No waves configured: one wave, "all".
/// </summary>
internal sealed class WavePlanner
{
    /// <summary>The hash buckets of the percent selection: 0.01 % each.</summary>
    internal const int Buckets = 10_000;

    private readonly string _salt;
    private readonly Wave[] _waves;

    public WavePlanner(RolloutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _salt = options.Salt;
        Implicit = options.Waves.Count == 0;
        _waves = Implicit
            ? [new Wave("all", false, null, null, new HashSet<string>(StringComparer.Ordinal), Buckets, TimeSpan.Zero, null, null, false, false)]
            : [.. options.Waves.Select(w => new Wave(
                w.Name,
                w.Canary,
                TagKey(w.Tag),
                TagValue(w.Tag),
                new HashSet<string>(w.Connectors, StringComparer.Ordinal),
                w.Percent is { } p ? (int)Math.Round(p * (Buckets / 100.0)) : null,
                w.BakeTime,
                w.MaxFailed,
                w.MaxFailedPercent,
                w.RequireApproval,
                w.RequireHealth))];
    }

    /// <summary>Gets a value indicating whether no waves are configured (today's behaviour: one wave, no bake, no gate, no halt).</summary>
    public bool Implicit { get; }

    /// <summary>Gets the number of waves.</summary>
    public int Count => _waves.Length;

    /// <summary>Gets a wave's definition.</summary>
    public Wave this[int index] => _waves[index];

    /// <summary>Gets the waves.</summary>
    public IReadOnlyList<Wave> Waves => _waves;

    /// <summary>Finds the wave a connector belongs to.</summary>
    public int WaveOf(ConnectorTarget connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        int? bucket = null;
        for (var i = 0; i < _waves.Length; i++)
        {
            var wave = _waves[i];
            if ((wave.Canary && connector.Canary)
                || wave.Connectors.Contains(connector.Id)
                || (wave.TagKey is not null && connector.Tags is { } tags && tags.TryGetValue(wave.TagKey, out var value) && string.Equals(value, wave.TagValue, StringComparison.Ordinal)))
            {
                return i;
            }

            if (wave.PercentBuckets is { } limit)
            {
                bucket ??= Bucket(_salt, connector.Id);
                if (bucket < limit)
                {
                    return i;
                }
            }
        }

        return _waves.Length - 1;
    }

    /// <summary>The stable hash bucket (0 to 9,999) of a connector id: SHA-256 of salt and id, so adding connectors moves none.</summary>
    internal static int Bucket(string salt, string connectorId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(salt + "\n" + connectorId), hash);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % Buckets);
    }

    /// <summary>How many failed or unhealthy connectors a wave of <paramref name="connectors"/> tolerates.</summary>
    public int Tolerance(int wave, int connectors)
    {
        var w = _waves[wave];
        if (Implicit)
        {
            // Today's behaviour: a failure never halts; the build stays in flight and the next tick retries.
            return int.MaxValue;
        }

        if (w.MaxFailed is null && w.MaxFailedPercent is null)
        {
            return 0;
        }

        var byCount = w.MaxFailed ?? int.MaxValue;
        var byPercent = w.MaxFailedPercent is { } p ? (int)Math.Floor(p * connectors / 100.0) : int.MaxValue;
        return Math.Min(byCount, byPercent);
    }

    /// <summary>
    /// The plan's fingerprint: the target, every wave's settings and members, and the pins. The dry run and the rollout it
    /// starts compute it from the same inventory listing, so they agree.
    /// </summary>
    public string Fingerprint(BuildNumber target, IReadOnlyList<IReadOnlyList<string>> members, IReadOnlyList<ConnectorPin> pins)
    {
        var text = new StringBuilder();
        text.Append("target=").Append(target).Append('\n');
        for (var i = 0; i < _waves.Length; i++)
        {
            var w = _waves[i];
            text.Append(CultureInfo.InvariantCulture, $"wave={w.Name}|bake={w.BakeTime}|max={w.MaxFailed}|pct={w.MaxFailedPercent}|approval={w.RequireApproval}|health={w.RequireHealth}\n");
            foreach (var id in members[i].Order(StringComparer.Ordinal))
            {
                text.Append(id).Append('\n');
            }
        }

        foreach (var pin in pins.OrderBy(p => p.Connector, StringComparer.Ordinal))
        {
            text.Append("pin=").Append(pin.Connector).Append('=').Append(pin.Build?.ToString() ?? "excluded").Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private static string? TagKey(string? tag) => tag is null ? null : tag[..tag.IndexOf('=', StringComparison.Ordinal)].Trim();

    private static string? TagValue(string? tag) => tag is null ? null : tag[(tag.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim();

    /// <summary>A wave's resolved definition.</summary>
    internal sealed record Wave(
        string Name,
        bool Canary,
        string? TagKey,
        string? TagValue,
        HashSet<string> Connectors,
        int? PercentBuckets,
        TimeSpan BakeTime,
        int? MaxFailed,
        double? MaxFailedPercent,
        bool RequireApproval,
        bool RequireHealth);
}
