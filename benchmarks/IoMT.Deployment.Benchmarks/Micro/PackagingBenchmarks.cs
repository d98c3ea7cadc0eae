using BenchmarkDotNet.Attributes;
using IoMT.Deployment.Local;

namespace IoMT.Deployment.Benchmarks.Micro;

/// <summary>The deterministic packager, the package reader and the directory deployer's extraction over one ~1.3 MB, 100-file build.</summary>
[MemoryDiagnoser]
public class PackagingBenchmarks : IDisposable
{
    private static readonly BuildNumber Build = BuildNumber.Parse("20250102.1");
    private readonly MemoryStream _output = new();
    private string _root = string.Empty;
    private string _buildOutput = string.Empty;
    private byte[] _zip = [];
    private string _sha256 = string.Empty;
    private ArtifactPackage _package = null!;
    private DirectoryConnectorDeployer _deployer = null!;
    private ConnectorTarget _connector = null!;
    private int _version;

    [GlobalSetup]
    public void Setup()
    {
        _root = PackageFixture.TempFolder("packaging");
        _buildOutput = PackageFixture.CreateBuildOutput(Path.Combine(_root, "build"));
        _zip = DeterministicPackager.PackageAsync(_buildOutput).GetAwaiter().GetResult();
        _sha256 = ContentHash.Sha256Hex(_zip);
        _package = new ArtifactPackage(Build, _zip, _sha256);
        var layout = new LocalLayout(new LocalProviderOptions { Root = Path.Combine(_root, "local") });
        _connector = new ConnectorTarget("connector-1");
        Directory.CreateDirectory(layout.ConnectorFolder(_connector.Id));
        _deployer = new DirectoryConnectorDeployer(layout);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    public void Dispose()
    {
        _output.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Description = "DeterministicPackager 100 files")]
    public async Task<long> Package()
    {
        _output.SetLength(0);
        await DeterministicPackager.PackageAsync(_buildOutput, _output);
        return _output.Length;
    }

    [Benchmark(Description = "PackageReader (SHA-256 + zip check)")]
    public async Task<long> Read()
    {
        await using var opened = new OpenedArtifact(new ArtifactInfo(Build, _zip.Length, _sha256), new MemoryStream(_zip, writable: false));
        var package = await PackageReader.ReadAsync(opened);
        return package.Length;
    }

    [Benchmark(Description = "DirectoryConnectorDeployer.DeployAsync (extract + swap)")]
    public Task Deploy() => _deployer.DeployAsync(_connector, _package);

    [Benchmark(Description = "DirectoryConnectorDeployer set+get PROJECT_VERSION")]
    public async Task<string?> Settings()
    {
        await _deployer.SetProjectVersionAsync(_connector, BuildNumber.Parse("1." + (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return await _deployer.GetProjectVersionAsync(_connector);
    }
}
