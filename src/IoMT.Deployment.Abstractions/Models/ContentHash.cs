using System.Security.Cryptography;

namespace IoMT.Deployment;

/// <summary>SHA-256 content hashes as lowercase hex, the form stored with every delivered build.</summary>
public static class ContentHash
{
    /// <summary>Hashes bytes.</summary>
    /// <param name="content">The bytes.</param>
    /// <returns>The lowercase hex SHA-256.</returns>
    public static string Sha256Hex(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Hashes a stream from its current position to its end.</summary>
    /// <param name="content">The stream.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The lowercase hex SHA-256.</returns>
    public static async Task<string> Sha256HexAsync(Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Compares two hex hashes, ignoring case.</summary>
    /// <param name="left">One hash.</param>
    /// <param name="right">The other hash.</param>
    /// <returns><see langword="true"/> when both are present and equal.</returns>
    public static bool AreEqual(string? left, string? right) =>
        left is not null && right is not null && string.Equals(left, right, StringComparison.OrdinalIgnoreCase);
}
