using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using IoMT.Deployment.Loopback;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>One app of the loopback host, as the child process announces it.</summary>
internal sealed record HostedApp(string Name, string ResourceId, string ScmHostName)
{
    public Uri ScmUri => new("https://" + ScmHostName + "/");

    public ConnectorTarget Target => new(Name, ResourceId);
}

/// <summary>What the child process announces once its host listens.</summary>
internal sealed record HostAnnouncement(Uri ArmEndpoint, string CertificateSha256, IReadOnlyList<HostedApp> Apps);

/// <summary>
/// The loopback App Service host (tests/IoMT.Deployment.AppServiceHost) in a child process of its own, so that the
/// memory and CPU the benchmark measures are the client's (the deployer's or raw HttpClient's), not the server's:
/// the host buffers every 5 MB upload and unzips it. The child is this executable run as <c>serve-appservice</c>.
/// </summary>
internal sealed class AppServiceHostProcess : IAsyncDisposable
{
    private const string Ready = "READY ";
    private readonly Process _process;

    private AppServiceHostProcess(Process process, HostAnnouncement announcement)
    {
        _process = process;
        Announcement = announcement;
    }

    public HostAnnouncement Announcement { get; }

    public IReadOnlyList<HostedApp> Apps => Announcement.Apps;

    /// <summary>Starts the child with <paramref name="apps"/> function apps and waits for its announcement.</summary>
    public static async Task<AppServiceHostProcess> StartAsync(int apps)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(AppServiceHostProcess).Assembly.Location);
        }

        psi.ArgumentList.Add("serve-appservice");
        psi.ArgumentList.Add(apps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the App Service host process.");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"The App Service host process exited (code {(process.HasExited ? process.ExitCode : -1)}) before it listened.");
                if (line.StartsWith(Ready, StringComparison.Ordinal))
                {
                    var announcement = JsonSerializer.Deserialize<HostAnnouncement>(line[Ready.Length..], JsonSerializerOptions.Web)!;
                    return new AppServiceHostProcess(process, announcement);
                }
            }
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Asks the child how many apps run a package (by SHA-256) and how many zip deploys it answered in all.</summary>
    public async Task<(int Deployed, int ZipDeploys)> CheckAsync(string sha256)
    {
        await _process.StandardInput.WriteLineAsync("check " + sha256);
        await _process.StandardInput.FlushAsync();
        var line = await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The App Service host process exited.");
        var parts = line.Split(' ');
        return (int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A handler like <see cref="AppServiceHost.CreateHttpMessageHandler"/>: <c>*.localhost</c> goes to 127.0.0.1, the host's certificate is trusted by its SHA-256 thumbprint.</summary>
    public HttpMessageHandler CreateHandler()
    {
        var thumbprint = Announcement.CertificateSha256;
        return new SocketsHttpHandler
        {
            ConnectCallback = static async (context, cancellationToken) =>
            {
                var endpoint = context.DnsEndPoint;
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, endpoint.Port), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    errors == SslPolicyErrors.None
                    || (certificate is not null && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), thumbprint, StringComparison.OrdinalIgnoreCase)),
            },
        };
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("stop");
                await _process.StandardInput.FlushAsync();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>The child's side: runs the host until told to stop (or its input closes).</summary>
    public static async Task<int> ServeAsync(int apps)
    {
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions
        {
            // The deployments finish as soon as the host has unpacked the upload: the HTTP path is what is measured.
            DeploymentDuration = TimeSpan.Zero,
            EnforceAudience = true,
        });
        var subscription = Guid.NewGuid().ToString();
        var hosted = new List<HostedApp>();
        for (var i = 0; i < apps; i++)
        {
            var app = host.AddApp(subscription, "rg-bench", $"bench-app-{i:D4}");
            hosted.Add(new HostedApp(app.Name, app.ResourceId, app.ScmHostName));
        }

        var announcement = new HostAnnouncement(host.ArmEndpoint, host.Certificate.GetCertHashString(HashAlgorithmName.SHA256), hosted);
        Console.WriteLine(Ready + JsonSerializer.Serialize(announcement, JsonSerializerOptions.Web));
        while (await Console.In.ReadLineAsync() is { } command && command != "stop")
        {
            if (command.StartsWith("check ", StringComparison.Ordinal))
            {
                var sha = command["check ".Length..];
                var live = host.Apps;
                Console.WriteLine($"CHECK {live.Count(a => a.DeployedPackageSha256 == sha)} {live.Sum(a => a.ZipDeployCount)}");
            }
        }

        return 0;
    }
}
