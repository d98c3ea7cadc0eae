using System.Text.Json;

namespace IoMT.Deployment.Local;

/// <summary>
/// The local version store: <c>state.json</c>, replaced atomically, with the SHA-256 of its bytes as ETag; a writer with a
/// stale ETag gets <see cref="VersionStateConflictException"/>. The bounded history lives in <c>history.json</c>.
/// Safe across processes on one machine (writes take an exclusive lock file).
/// </summary>
public sealed class JsonFileVersionStore : IVersionStore
{
    private readonly LocalLayout _layout;

    /// <summary>Creates the store.</summary>
    /// <param name="layout">The local layout.</param>
    public JsonFileVersionStore(LocalLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
    }

    /// <inheritdoc/>
    public async Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default)
    {
        var bytes = await ReadBytesAsync(_layout.StateFile, cancellationToken).ConfigureAwait(false);
        return bytes is null ? new VersionStateEntry(VersionState.Empty, null) : new VersionStateEntry(Parse(bytes), ETagOf(bytes));
    }

    /// <inheritdoc/>
    public async Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        var content = JsonSerializer.SerializeToUtf8Bytes(state, LocalLayout.Json);
        await using var gate = await LocalLayout.LockAsync(_layout.StateFile + ".lock", cancellationToken).ConfigureAwait(false);
        var existing = await ReadBytesAsync(_layout.StateFile, cancellationToken).ConfigureAwait(false);
        var currentETag = existing is null ? null : ETagOf(existing);
        if (currentETag != expectedETag)
        {
            throw new VersionStateConflictException(expectedETag is null
                ? $"The version state '{_layout.StateFile}' already exists; read it and write with its ETag."
                : $"The version state '{_layout.StateFile}' changed since it was read (ETag {expectedETag}, now {currentETag ?? "deleted"}); nothing was written.");
        }

        await LocalLayout.WriteAtomicAsync(_layout.StateFile, content, cancellationToken).ConfigureAwait(false);
        return ETagOf(content);
    }

    /// <inheritdoc/>
    public async Task AppendHistoryAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var gate = await LocalLayout.LockAsync(_layout.HistoryFile + ".lock", cancellationToken).ConfigureAwait(false);
        var history = await ReadHistoryCoreAsync(cancellationToken).ConfigureAwait(false);
        history.Insert(0, entry);
        if (history.Count > _layout.Options.HistoryLimit)
        {
            history.RemoveRange(_layout.Options.HistoryLimit, history.Count - _layout.Options.HistoryLimit);
        }

        await LocalLayout.WriteAtomicAsync(_layout.HistoryFile, JsonSerializer.SerializeToUtf8Bytes(history, LocalLayout.Json), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryAsync(int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        var history = await ReadHistoryCoreAsync(cancellationToken).ConfigureAwait(false);
        return history.Count <= maxCount ? history : history.GetRange(0, maxCount);
    }

    private async Task<List<RolloutHistoryEntry>> ReadHistoryCoreAsync(CancellationToken cancellationToken)
    {
        var bytes = await ReadBytesAsync(_layout.HistoryFile, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<RolloutHistoryEntry>>(bytes, LocalLayout.Json) ?? [];
        }
        catch (JsonException ex)
        {
            throw new VersionStoreException($"The rollout history '{_layout.HistoryFile}' is corrupt: {ex.Message}", ex);
        }
    }

    private VersionState Parse(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize<VersionState>(bytes, LocalLayout.Json)
                ?? throw new VersionStoreException($"The version state '{_layout.StateFile}' is corrupt: it holds null.");
        }
        catch (JsonException ex)
        {
            throw new VersionStoreException($"The version state '{_layout.StateFile}' is corrupt: {ex.Message}", ex);
        }
    }

    private static async Task<byte[]?> ReadBytesAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static string ETagOf(byte[] bytes) => "\"" + ContentHash.Sha256Hex(bytes)[..16] + "\"";
}
