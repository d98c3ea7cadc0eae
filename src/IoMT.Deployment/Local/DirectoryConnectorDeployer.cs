using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IoMT.Deployment.Local;

/// <summary>
/// The local deployer: a connector is a folder. The package is checked (entry names that escape the folder, entry count,
/// extracted size) before anything changes, extracted beside <c>site/wwwroot</c> and swapped in; <c>PROJECT_VERSION</c>
/// lives in the connector's <c>appsettings.json</c> beside its other settings, which every write keeps.
/// </summary>
public sealed class DirectoryConnectorDeployer : IConnectorDeployer
{
    private readonly LocalLayout _layout;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _settingsGates = new(StringComparer.Ordinal);

    /// <summary>Creates the deployer.</summary>
    /// <param name="layout">The local layout.</param>
    public DirectoryConnectorDeployer(LocalLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
    }

    /// <summary>
    /// Test seam, never set outside tests: called when a settings write finds another write to the same connector inside
    /// its read-modify-write and queues behind it, with the connector and the build this write sets.
    /// </summary>
    internal Action<ConnectorTarget, BuildNumber>? SettingsWriteQueued { get; set; }

    /// <summary>
    /// Test seam, never set outside tests: awaited inside a settings write's critical section, after the settings were read
    /// and before they are written, with the connector, the build this write sets and the <c>PROJECT_VERSION</c> it read.
    /// </summary>
    internal Func<ConnectorTarget, BuildNumber, string?, Task>? SettingsRead { get; set; }

    /// <inheritdoc/>
    public async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(package);
        var folder = RequireConnector(connector);
        Validate(connector, package);

        var site = Path.Combine(folder, "site");
        var staging = Path.Combine(site, ".staging-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            Directory.CreateDirectory(staging);
            await ExtractAsync(package, staging, cancellationToken).ConfigureAwait(false);
            Swap(site, staging);
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or IOException && !Directory.Exists(folder))
        {
            throw new ConnectorNotFoundException(connector.Id, $"Connector '{connector.Id}' was deleted during its deployment.", ex);
        }
        finally
        {
            TryDelete(staging);
        }
    }

    /// <inheritdoc/>
    public async Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        RequireConnector(connector);
        var gate = _settingsGates.GetOrAdd(connector.Id, _ => new SemaphoreSlim(1, 1));
        var entered = gate.WaitAsync(cancellationToken);
        if (!entered.IsCompleted)
        {
            SettingsWriteQueued?.Invoke(connector, build);
        }

        await entered.ConfigureAwait(false);
        try
        {
            var settings = await ReadSettingsAsync(connector, cancellationToken).ConfigureAwait(false);
            var current = settings[ProjectVersionSetting.Name]?.GetValue<string>();
            if (SettingsRead is { } read)
            {
                await read(connector, build, current).ConfigureAwait(false);
            }

            if (current == build.ToString())
            {
                return;
            }

            settings[ProjectVersionSetting.Name] = build.ToString();
            await LocalLayout.WriteAtomicAsync(_layout.AppSettings(connector.Id), settings.ToJsonString(LocalLayout.Json), cancellationToken).ConfigureAwait(false);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new ConnectorNotFoundException(connector.Id, $"Connector '{connector.Id}' was deleted while its settings were written.", ex);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        RequireConnector(connector);
        var settings = await ReadSettingsAsync(connector, cancellationToken).ConfigureAwait(false);
        return settings[ProjectVersionSetting.Name]?.GetValue<string>();
    }

    /// <summary>Reads every app setting of a connector.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The settings by name.</returns>
    internal async Task<IReadOnlyDictionary<string, string?>> GetSettingsAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        RequireConnector(connector);
        var settings = await ReadSettingsAsync(connector, cancellationToken).ConfigureAwait(false);
        return settings.ToDictionary(p => p.Key, p => p.Value?.ToString(), StringComparer.Ordinal);
    }

    private string RequireConnector(ConnectorTarget connector)
    {
        string folder;
        try
        {
            folder = _layout.ConnectorFolder(connector.Id);
        }
        catch (ArgumentException ex)
        {
            throw new ConnectorNotFoundException(connector.Id, ex.Message, ex);
        }

        return Directory.Exists(folder)
            ? folder
            : throw new ConnectorNotFoundException(connector.Id, $"Connector '{connector.Id}' has no app folder '{folder}'; it was deleted or never created.");
    }

    private void Validate(ConnectorTarget connector, ArtifactPackage package)
    {
        var options = _layout.Options;
        if (package.Length > options.MaxPackageBytes)
        {
            throw new InvalidPackageException(package.Build, $"Package {package.Build.PackageFileName} is {package.Length} bytes, more than the {options.MaxPackageBytes} allowed (LocalProviderOptions.MaxPackageBytes); connector '{connector.Id}' is unchanged.");
        }

        try
        {
            using var zip = new ZipArchive(package.OpenRead(), ZipArchiveMode.Read);
            if (zip.Entries.Count > options.MaxEntries)
            {
                throw new InvalidPackageException(package.Build, $"Package {package.Build.PackageFileName} has {zip.Entries.Count} entries, more than the {options.MaxEntries} allowed (LocalProviderOptions.MaxEntries); connector '{connector.Id}' is unchanged.");
            }

            long total = 0;
            foreach (var entry in zip.Entries)
            {
                if (!ZipPackage.IsSafeEntryName(entry.FullName))
                {
                    throw new InvalidPackageException(package.Build, $"Package {package.Build.PackageFileName} has an entry '{entry.FullName}' that escapes the app folder; connector '{connector.Id}' is unchanged.");
                }

                total += entry.Length;
                if (total > options.MaxExtractedBytes)
                {
                    throw new InvalidPackageException(package.Build, $"Package {package.Build.PackageFileName} extracts to more than the {options.MaxExtractedBytes} bytes allowed (LocalProviderOptions.MaxExtractedBytes); connector '{connector.Id}' is unchanged.");
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidPackageException(package.Build, $"Package {package.Build.PackageFileName} is not a valid zip: {ex.Message}", ex);
        }
    }

    private async Task ExtractAsync(ArtifactPackage package, string staging, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(staging) + Path.DirectorySeparatorChar;
        var budget = _layout.Options.MaxExtractedBytes;
        using var zip = new ZipArchive(package.OpenRead(), ZipArchiveMode.Read);

        // One pooled buffer per deployment; the file streams write through it unbuffered.
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            foreach (var entry in zip.Entries)
            {
                budget = await ExtractEntryAsync(package, entry, staging, root, buffer, budget, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Extracts one entry; returns the extraction budget left.</summary>
    private async Task<long> ExtractEntryAsync(ArtifactPackage package, ZipArchiveEntry entry, string staging, string root, byte[] buffer, long budget, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var target = Path.GetFullPath(Path.Combine(staging, entry.FullName));
        if (!target.StartsWith(root, StringComparison.Ordinal))
        {
            throw new InvalidPackageException(package.Build, $"Package {package.Build.PackageFileName} has an entry '{entry.FullName}' that escapes the app folder.");
        }

        if (entry.FullName.EndsWith('/'))
        {
            Directory.CreateDirectory(target);
            return budget;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var source = entry.Open();
        await using (source.ConfigureAwait(false))
        {
            var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                // Declared sizes can lie: count the bytes really written against the budget.
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    budget -= read;
                    if (budget < 0)
                    {
                        throw new InvalidPackageException(package.Build, $"Package {package.Build.PackageFileName} extracts to more than the {_layout.Options.MaxExtractedBytes} bytes allowed (LocalProviderOptions.MaxExtractedBytes).");
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return budget;
    }

    private static void Swap(string site, string staging)
    {
        var wwwroot = Path.Combine(site, "wwwroot");
        var old = Path.Combine(site, ".old-" + Guid.NewGuid().ToString("N")[..12]);
        if (Directory.Exists(wwwroot))
        {
            Directory.Move(wwwroot, old);
        }

        Directory.Move(staging, wwwroot);
        TryDelete(old);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Leftover staging folders are harmless: they are never read.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task<JsonObject> ReadSettingsAsync(ConnectorTarget connector, CancellationToken cancellationToken)
    {
        var path = _layout.AppSettings(connector.Id);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new ConnectorNotFoundException(connector.Id, $"Connector '{connector.Id}' was deleted.", ex);
        }

        try
        {
            return JsonNode.Parse(bytes) as JsonObject
                ?? throw new DeploymentFailedException(connector.Id, $"The settings file '{path}' of connector '{connector.Id}' is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new DeploymentFailedException(connector.Id, $"The settings file '{path}' of connector '{connector.Id}' is not valid JSON: {ex.Message}", ex);
        }
    }
}
