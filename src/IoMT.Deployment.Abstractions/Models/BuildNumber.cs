using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IoMT.Deployment;


/// <summary>
/// A CI build number, the name of a delivered package without its <c>.zip</c> extension:
/// one or more dot-separated non-negative integers without leading zeros (<c>1</c>, <c>10</c>, <c>20201105.3</c>).
/// </summary>
/// <remarks>
/// Build numbers order segment by segment as numbers, so <c>10 &gt; 9</c> and <c>20201105.10 &gt; 20201105.9</c>;
/// a prefix orders before its extension (<c>1.2 &lt; 1.2.0</c>). The <see langword="default"/> value is not a valid
/// build number; use <see cref="IsDefault"/> to detect it.
/// </remarks>
[JsonConverter(typeof(BuildNumberJsonConverter))]
public readonly struct BuildNumber : IEquatable<BuildNumber>, IComparable<BuildNumber>, IComparable, ISpanParsable<BuildNumber>
{
    /// <summary>The file extension of a delivered package.</summary>
    public const string PackageExtension = ".zip";

    /// <summary>The longest build number accepted, in characters.</summary>
    public const int MaxLength = 128;

    private readonly string? _text;
    private readonly ulong[]? _segments;

    private BuildNumber(string text, ulong[] segments)
    {
        _text = text;
        _segments = segments;
    }

    /// <summary>Gets a value indicating whether this is the <see langword="default"/>, uninitialized value.</summary>
    public bool IsDefault => _segments is null;

    /// <summary>Gets the numeric segments of the build number.</summary>
    public IReadOnlyList<ulong> Segments => _segments ?? [];

    /// <summary>Gets the package file name of this build, <c>{build}.zip</c>.</summary>
    public string PackageFileName => ToString() + PackageExtension;

    /// <summary>Parses a build number.</summary>
    /// <param name="s">The text, for example <c>20201105.3</c>.</param>
    /// <returns>The build number.</returns>
    /// <exception cref="FormatException"><paramref name="s"/> is not a build number; the message says why.</exception>
    public static BuildNumber Parse(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return Parse(s.AsSpan());
    }

    /// <inheritdoc cref="Parse(string)"/>
    /// <param name="s">The text.</param>
    /// <param name="provider">Ignored: build numbers are culture invariant.</param>
    static BuildNumber IParsable<BuildNumber>.Parse(string s, IFormatProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(s);
        return Parse(s.AsSpan());
    }

    /// <inheritdoc cref="Parse(string)"/>
    /// <param name="s">The text.</param>
    /// <param name="provider">Ignored: build numbers are culture invariant.</param>
    static BuildNumber ISpanParsable<BuildNumber>.Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    /// <inheritdoc cref="Parse(string)"/>
    /// <param name="s">The text.</param>
    public static BuildNumber Parse(ReadOnlySpan<char> s)
    {
        var error = TryParseCore(s, out var result);
        return error is null
            ? result
            : throw new FormatException($"'{Truncate(s)}' is not a valid build number: {error}. A build number is one or more dot-separated non-negative integers without leading zeros, such as 1, 10 or 20201105.3.");
    }

    /// <summary>Tries to parse a build number.</summary>
    /// <param name="s">The text.</param>
    /// <param name="result">The build number, when the text is one.</param>
    /// <returns><see langword="true"/> when <paramref name="s"/> is a valid build number.</returns>
    public static bool TryParse([NotNullWhen(true)] string? s, out BuildNumber result)
    {
        if (s is null)
        {
            result = default;
            return false;
        }

        return TryParseCore(s.AsSpan(), out result) is null;
    }

    /// <inheritdoc cref="TryParse(string?, out BuildNumber)"/>
    static bool IParsable<BuildNumber>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out BuildNumber result) => TryParse(s, out result);

    /// <inheritdoc cref="TryParse(string?, out BuildNumber)"/>
    static bool ISpanParsable<BuildNumber>.TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out BuildNumber result) => TryParse(s, out result);

    /// <inheritdoc cref="TryParse(string?, out BuildNumber)"/>
    /// <param name="s">The text.</param>
    /// <param name="result">The build number, when the text is one.</param>
    public static bool TryParse(ReadOnlySpan<char> s, out BuildNumber result) => TryParseCore(s, out result) is null;

    /// <summary>
    /// Tries to read the build number from a package file name such as <c>20201105.3.zip</c>
    /// (the extension is matched case-insensitively).
    /// </summary>
    /// <param name="fileName">The file or blob name, without any folder.</param>
    /// <param name="result">The build number, when the name is a package name.</param>
    /// <returns><see langword="true"/> when the name is <c>{build}.zip</c> with a valid build.</returns>
    public static bool TryParsePackageFileName([NotNullWhen(true)] string? fileName, out BuildNumber result)
    {
        if (fileName is null || !fileName.EndsWith(PackageExtension, StringComparison.OrdinalIgnoreCase))
        {
            result = default;
            return false;
        }

        return TryParseCore(fileName.AsSpan(0, fileName.Length - PackageExtension.Length), out result) is null;
    }

    private static string? TryParseCore(ReadOnlySpan<char> s, out BuildNumber result)
    {
        result = default;
        if (s.IsEmpty)
        {
            return "it is empty";
        }

        if (s.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        var count = 1;
        foreach (var c in s)
        {
            if (c == '.')
            {
                count++;
            }
        }

        var segments = new ulong[count];
        var index = 0;
        var start = 0;
        for (var i = 0; i <= s.Length; i++)
        {
            if (i < s.Length && s[i] != '.')
            {
                var c = s[i];
                if (c < '0' || c > '9')
                {
                    return $"'{c}' at position {i + 1} is not a digit or a dot";
                }

                continue;
            }

            var segment = s[start..i];
            if (segment.IsEmpty)
            {
                return "it has an empty segment";
            }

            if (segment.Length > 1 && segment[0] == '0')
            {
                return $"segment '{segment}' has a leading zero";
            }

            if (!ulong.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return $"segment '{segment}' is too large";
            }

            segments[index++] = value;
            start = i + 1;
        }

        result = new BuildNumber(s.ToString(), segments);
        return null;
    }

    private static string Truncate(ReadOnlySpan<char> s) => s.Length <= 64 ? s.ToString() : string.Concat(s[..64], "…");

    /// <inheritdoc/>
    public int CompareTo(BuildNumber other)
    {
        var left = _segments ?? [];
        var right = other._segments ?? [];
        var n = Math.Min(left.Length, right.Length);
        for (var i = 0; i < n; i++)
        {
            var c = left[i].CompareTo(right[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return left.Length.CompareTo(right.Length);
    }

    /// <inheritdoc/>
    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        BuildNumber other => CompareTo(other),
        _ => throw new ArgumentException($"Object must be of type {nameof(BuildNumber)}.", nameof(obj)),
    };

    /// <inheritdoc/>
    public bool Equals(BuildNumber other) => CompareTo(other) == 0;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BuildNumber other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var segment in _segments ?? [])
        {
            hash.Add(segment);
        }

        return hash.ToHashCode();
    }

    /// <summary>Returns the build number as text, exactly as parsed.</summary>
    /// <returns>The text, or an empty string for the default value.</returns>
    public override string ToString() => _text ?? string.Empty;

    /// <summary>Equality.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    /// <returns><see langword="true"/> when both are the same build.</returns>
    public static bool operator ==(BuildNumber left, BuildNumber right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    /// <returns><see langword="true"/> when the builds differ.</returns>
    public static bool operator !=(BuildNumber left, BuildNumber right) => !left.Equals(right);

    /// <summary>Ordering.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    /// <returns><see langword="true"/> when <paramref name="left"/> orders first.</returns>
    public static bool operator <(BuildNumber left, BuildNumber right) => left.CompareTo(right) < 0;

    /// <summary>Ordering.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    /// <returns><see langword="true"/> when <paramref name="left"/> orders last.</returns>
    public static bool operator >(BuildNumber left, BuildNumber right) => left.CompareTo(right) > 0;

    /// <summary>Ordering.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    /// <returns><see langword="true"/> unless <paramref name="left"/> orders last.</returns>
    public static bool operator <=(BuildNumber left, BuildNumber right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering.</summary>
    /// <param name="left">The left operand.</param>
    /// <param name="right">The right operand.</param>
    /// <returns><see langword="true"/> unless <paramref name="left"/> orders first.</returns>
    public static bool operator >=(BuildNumber left, BuildNumber right) => left.CompareTo(right) >= 0;
}
