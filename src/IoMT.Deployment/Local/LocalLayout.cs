using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IoMT.Deployment.Local;

/// <summary>The local provider's folder layout under its root.</summary>
public sealed class LocalLayout
{
    /// <summary>Creates the layout.</summary>
    /// <param name="options">The provider options.</param>
    public LocalLayout(LocalProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Root = Path.GetFullPath(options.Root);
    }

    /// <summary>Gets the provider options.</summary>
    public LocalProviderOptions Options { get; }

    /// <summary>Gets the absolute root folder.</summary>
    public string Root { get; }

    /// <summary>Gets the artifact folder, <c>{root}/artifacts</c>.</summary>
    public string Artifacts => Path.Combine(Root, "artifacts");

    /// <summary>Gets the version state file, <c>{root}/state.json</c>.</summary>
    public string StateFile => Path.Combine(Root, "state.json");

    /// <summary>Gets the rollout history file, <c>{root}/history.json</c>.</summary>
    public string HistoryFile => Path.Combine(Root, "history.json");

    /// <summary>Gets the connector list, <c>{root}/connectors.json</c>.</summary>
    public string ConnectorsFile => Path.Combine(Root, "connectors.json");

    /// <summary>Gets the folder holding every connector's app, <c>{root}/connectors</c>.</summary>
    public string ConnectorsFolder => Path.Combine(Root, "connectors");

    /// <summary>Gets the rollout lock file, <c>{root}/rollout.lock</c>.</summary>
    public string LockFile => Path.Combine(Root, "rollout.lock");

    /// <summary>Gets a connector's app folder, <c>{root}/connectors/{id}</c>.</summary>
    /// <param name="connectorId">The connector's id, a safe folder name.</param>
    /// <returns>The folder.</returns>
    public string ConnectorFolder(string connectorId) => Path.Combine(ConnectorsFolder, RequireSafeName(connectorId));

    /// <summary>Gets a connector's deployed code folder, <c>{root}/connectors/{id}/site/wwwroot</c>.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <returns>The folder.</returns>
    public string WwwRoot(string connectorId) => Path.Combine(ConnectorFolder(connectorId), "site", "wwwroot");

    /// <summary>Gets a connector's settings file, <c>{root}/connectors/{id}/appsettings.json</c>.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <returns>The file.</returns>
    public string AppSettings(string connectorId) => Path.Combine(ConnectorFolder(connectorId), "appsettings.json");

    /// <summary>Checks that a connector id can be a folder name: letters, digits, <c>-</c>, <c>_</c> and <c>.</c>, not starting with a dot, at most 64 characters.</summary>
    /// <param name="connectorId">The id.</param>
    /// <returns>The id.</returns>
    /// <exception cref="ArgumentException">The id is not a safe folder name.</exception>
    public static string RequireSafeName(string connectorId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectorId);
        var ok = connectorId.Length <= 64 && connectorId[0] != '.' && connectorId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
        return ok ? connectorId : throw new ArgumentException($"'{connectorId}' is not a valid local connector name: use letters, digits, '-', '_' and '.', at most 64 characters, not starting with '.'.", nameof(connectorId));
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes a file atomically: to a temporary file beside it, then renamed over it.</summary>
    internal static async Task WriteAtomicAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            await File.WriteAllBytesAsync(temp, content, cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    internal static Task WriteAtomicAsync(string path, string content, CancellationToken cancellationToken) =>
        WriteAtomicAsync(path, Encoding.UTF8.GetBytes(content), cancellationToken);

    /// <summary>Opens an exclusive lock file, waiting for other processes of this provider that hold it.</summary>
    internal static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another process of the local provider is writing; these writes take milliseconds.
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
