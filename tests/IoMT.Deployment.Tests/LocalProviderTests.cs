using System.IO.Compression;
using System.Text;
using System.Text.Json;
using IoMT.Deployment.Local;
using IoMT.Deployment.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace IoMT.Deployment.Tests;

public sealed class LocalProviderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "iomt-local-" + Guid.NewGuid().ToString("N"));
    private readonly LocalLayout _layout;
    private readonly FakeLogCollector _logs = new();

    public LocalProviderTests()
    {
        _layout = new LocalLayout(new LocalProviderOptions { Root = _root });
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static BuildNumber B(string s) => BuildNumber.Parse(s);

    private FileSystemArtifactStore Store() => new(_layout, new FakeLogger<FileSystemArtifactStore>(_logs));

    private static MemoryStream S(byte[] bytes) => new(bytes);

    private Dictionary<string, string> Snapshot() =>
        Directory.Exists(_root)
            ? Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(_root, f), f => Convert.ToHexString(File.ReadAllBytes(f)))
            : [];

    [Fact]
    public async Task Publishing_the_same_bytes_twice_is_a_no_op_and_other_bytes_are_a_conflict()
    {
        var store = Store();
        var one = TestPackages.ForBuild("1");

        var first = await store.PublishAsync(B("1"), S(one));
        var again = await store.PublishAsync(B("1"), S(one));
        var before = Snapshot();
        var conflict = await Assert.ThrowsAsync<ArtifactConflictException>(() => store.PublishAsync(B("1"), S(TestPackages.ForBuild("other"))));

        Assert.Equal(PublishOutcome.Created, first.Outcome);
        Assert.Equal(PublishOutcome.AlreadyExists, again.Outcome);
        Assert.Equal(ContentHash.Sha256Hex(one), first.Sha256);
        Assert.Equal(first.Sha256, conflict.ExistingSha256);
        Assert.Contains("immutable", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Concurrent_publishers_of_one_build_never_both_write()
    {
        var store = Store();
        var packages = Enumerable.Range(0, 8).Select(i => TestPackages.ForBuild("content " + i)).ToArray();

        var outcomes = await Simultaneously.RunAsync(packages.Length, async i =>
        {
            try
            {
                return (await store.PublishAsync(B("5"), S(packages[i]))).Outcome.ToString();
            }
            catch (ArtifactConflictException)
            {
                return "conflict";
            }
        });

        Assert.Equal(1, outcomes.Count(o => o == nameof(PublishOutcome.Created)));
        Assert.Equal(7, outcomes.Count(o => o == "conflict"));
        await using var opened = await store.OpenAsync(B("5"));
        var stored = await PackageReader.ReadAsync(opened);
        Assert.Contains(packages, p => ContentHash.Sha256Hex(p) == stored.Sha256);
    }

    [Fact]
    public async Task Listing_ignores_junk_names_with_a_warning_and_gives_recorded_hashes()
    {
        var store = Store();
        await store.PublishAsync(B("2"), S(TestPackages.ForBuild("2")));
        await store.PublishAsync(B("10"), S(TestPackages.ForBuild("10")));
        File.WriteAllText(Path.Combine(store.Folder, "notes.txt"), "x");
        File.WriteAllText(Path.Combine(store.Folder, "01.zip"), "x");

        var builds = new List<ArtifactInfo>();
        await foreach (var a in store.ListAsync())
        {
            builds.Add(a);
        }

        Assert.Equal([B("2"), B("10")], builds.Select(b => b.Build).Order());
        Assert.All(builds, b => Assert.Equal(64, b.Sha256!.Length));
        Assert.Equal(2, _logs.GetSnapshot().Count(r => r.Id.Id == 1030));
        Assert.Equal(B("10"), (await store.GetNewestAsync())!.Build);
    }

    [Fact]
    public async Task A_missing_artifact_folder_or_build_is_a_clear_error()
    {
        var store = Store();

        var missing = await Assert.ThrowsAsync<ArtifactStoreException>(async () => { await foreach (var _ in store.ListAsync()) { } });
        Assert.Contains(store.Folder, missing.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetNewestAsync());

        await store.PublishAsync(B("1"), S(TestPackages.ForBuild("1")));
        var notFound = await Assert.ThrowsAsync<BuildNotFoundException>(() => store.OpenAsync(B("2")));
        Assert.Equal(B("2"), notFound.Build);
    }

    [Fact]
    public async Task A_tampered_package_is_refused_by_its_recorded_hash()
    {
        var store = Store();
        await store.PublishAsync(B("1"), S(TestPackages.ForBuild("1")));
        File.WriteAllBytes(Path.Combine(store.Folder, "1.zip"), TestPackages.ForBuild("tampered"));

        await using var opened = await store.OpenAsync(B("1"));
        var ex = await Assert.ThrowsAsync<InvalidPackageException>(() => PackageReader.ReadAsync(opened));

        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_store_writes_are_conditional_on_the_etag()
    {
        var store = new JsonFileVersionStore(_layout);

        var empty = await store.ReadAsync();
        Assert.Same(VersionState.Empty, empty.State);
        Assert.Null(empty.ETag);

        var e1 = await store.WriteAsync(VersionState.Empty with { Current = B("1") }, null);
        await Assert.ThrowsAsync<VersionStateConflictException>(() => store.WriteAsync(VersionState.Empty, null));
        var e2 = await store.WriteAsync((await store.ReadAsync()).State with { InFlight = B("2") }, e1);
        var before = File.ReadAllBytes(_layout.StateFile);
        var stale = await Assert.ThrowsAsync<VersionStateConflictException>(() => store.WriteAsync(VersionState.Empty with { Current = B("9") }, e1));

        Assert.NotEqual(e1, e2);
        Assert.Contains("changed since it was read", stale.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(_layout.StateFile));
        var read = await store.ReadAsync();
        Assert.Equal(e2, read.ETag);
        Assert.Equal(B("1"), read.State.Current);
        Assert.Equal(B("2"), read.State.InFlight);
    }

    [Fact]
    public async Task Version_store_writers_at_once_with_one_ETag_exactly_one_wins()
    {
        var a = new JsonFileVersionStore(_layout);
        var b = new JsonFileVersionStore(_layout);
        var etag = await a.WriteAsync(VersionState.Empty, null);

        var results = await Simultaneously.RunAsync(8, i => Attempt(i % 2 == 0 ? a : b, VersionState.Empty with { Current = B((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)) }));

        var winner = Assert.Single(Enumerable.Range(0, results.Length), i => results[i]);
        Assert.Equal(B((winner + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), (await a.ReadAsync()).State.Current);
        async Task<bool> Attempt(JsonFileVersionStore store, VersionState state)
        {
            try
            {
                await store.WriteAsync(state, etag);
                return true;
            }
            catch (VersionStateConflictException)
            {
                return false;
            }
        }
    }

    [Fact]
    public async Task A_corrupt_state_file_is_an_error_that_names_the_file()
    {
        Directory.CreateDirectory(_root);
        File.WriteAllText(_layout.StateFile, "{\"current\": \"banana\"}");

        var ex = await Assert.ThrowsAsync<VersionStoreException>(() => new JsonFileVersionStore(_layout).ReadAsync());

        Assert.Contains(_layout.StateFile, ex.Message, StringComparison.Ordinal);
        Assert.Contains("banana", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_round_trips_invalidations_and_the_history_is_bounded_newest_first()
    {
        var layout = new LocalLayout(new LocalProviderOptions { Root = _root, HistoryLimit = 3 });
        var store = new JsonFileVersionStore(layout);
        var at = new DateTimeOffset(2026, 11, 26, 1, 2, 3, TimeSpan.Zero);
        var state = (VersionState.Empty with { Current = B("20201105.10") }).WithInvalidated(new BuildInvalidation(B("20201105.11"), "crash", at, "ops"));
        await store.WriteAsync(state, null);
        for (var i = 1; i <= 5; i++)
        {
            await store.AppendHistoryAsync(new RolloutHistoryEntry { Id = "r" + i, Kind = RolloutKind.Update, To = B(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), StartedAt = at, CompletedAt = at, Succeeded = true });
        }

        var read = (await store.ReadAsync()).State;
        var history = await store.ReadHistoryAsync(10);

        Assert.Equal(B("20201105.10"), read.Current);
        Assert.Equal(state.Invalidated, read.Invalidated);
        Assert.Equal(["r5", "r4", "r3"], history.Select(h => h.Id));
        Assert.Equal(["r5"], (await store.ReadHistoryAsync(1)).Select(h => h.Id));
    }

    [Fact]
    public async Task State_round_trips_the_rollout_record_and_pins_field_for_field()
    {
        var store = new JsonFileVersionStore(_layout);
        var state = RolloutSamples.State();

        var eTag = await store.WriteAsync(state, null);
        var read = await store.ReadAsync();

        Assert.Equal(eTag, read.ETag);
        Assert.Equivalent(state, read.State, strict: true);
        Assert.Equal(RolloutStatus.Baking, read.State.Rollout!.PausedFrom);
        Assert.Equal(B("20260301.1"), read.State.Rollout.From);
        Assert.Null(read.State.Pins[1].Build);
        Assert.True(read.State.Pins[1].Excluded);
        Assert.Null(read.State.Rollout.Commands[1].Reason);

        // Enums by name, computed properties left out, a pin without a build stored without one.
        using var file = JsonDocument.Parse(File.ReadAllBytes(_layout.StateFile));
        var rollout = file.RootElement.GetProperty("rollout");
        Assert.Equal("Paused", rollout.GetProperty("status").GetString());
        Assert.Equal("Deploying", rollout.GetProperty("waves")[1].GetProperty("status").GetString());
        Assert.Equal("Resume", rollout.GetProperty("commands")[1].GetProperty("action").GetString());
        Assert.False(rollout.TryGetProperty("isActive", out _));
        Assert.False(file.RootElement.GetProperty("pins")[1].TryGetProperty("build", out _));
        Assert.False(file.RootElement.GetProperty("pins")[1].TryGetProperty("excluded", out _));

        // A state file written before rollouts existed reads with no rollout and no pins.
        File.WriteAllText(_layout.StateFile, """{"current":"20201105.3","invalidated":[]}""");
        var old = (await store.ReadAsync()).State;
        Assert.Null(old.Rollout);
        Assert.Empty(old.Pins);
    }

    [Fact]
    public async Task Fleet_adds_and_removes_connectors_and_refuses_bad_names_without_changes()
    {
        var fleet = new LocalFleet(_layout);

        Assert.Equal(["a", "b"], await fleet.AddAsync(["a", "b", "a"]));
        Assert.Empty(await fleet.AddAsync(["a"]));
        var before = Snapshot();
        await Assert.ThrowsAsync<ArgumentException>(() => fleet.AddAsync(["c", "../escape"]));
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => fleet.RemoveAsync(["a", "nope"]));
        Assert.Equal(before, Snapshot());

        await fleet.RemoveAsync(["a"]);

        Assert.False(await fleet.ExistsAsync("a"));
        Assert.True(await fleet.ExistsAsync("b"));
        Assert.False(Directory.Exists(_layout.ConnectorFolder("a")));
        Assert.True(File.Exists(_layout.AppSettings("b")));
    }

    [Fact]
    public async Task Deploy_extracts_into_wwwroot_replacing_the_old_content_and_keeps_other_settings()
    {
        var fleet = new LocalFleet(_layout);
        await fleet.AddAsync(["a"]);
        File.WriteAllText(_layout.AppSettings("a"), "{\"FhirServerUrl\":\"https://fhir\",\"PROJECT_VERSION\":\"0\"}");
        var deployer = new DirectoryConnectorDeployer(_layout);
        var a = new ConnectorTarget("a");

        await deployer.DeployAsync(a, ArtifactPackage.FromBytes(B("1"), TestPackages.Zip(("old.txt", "old"), ("bin/app.dll", "v1"))));
        await deployer.DeployAsync(a, ArtifactPackage.FromBytes(B("2"), TestPackages.Zip(("bin/app.dll", "v2"), ("host.json", "{}"))));
        await deployer.SetProjectVersionAsync(a, B("2"));

        var wwwroot = _layout.WwwRoot("a");
        Assert.Equal("v2", File.ReadAllText(Path.Combine(wwwroot, "bin", "app.dll")));
        Assert.False(File.Exists(Path.Combine(wwwroot, "old.txt")));
        Assert.Equal(["wwwroot"], Directory.GetDirectories(Path.Combine(_layout.ConnectorFolder("a"), "site")).Select(Path.GetFileName));
        Assert.Equal("2", await deployer.GetProjectVersionAsync(a));
        var settings = await deployer.GetSettingsAsync(a);
        Assert.Equal("https://fhir", settings["FhirServerUrl"]);
    }

    [Fact]
    public async Task Concurrent_version_writes_to_one_connector_keep_every_other_setting()
    {
        var fleet = new LocalFleet(_layout);
        await fleet.AddAsync(["a"]);
        File.WriteAllText(_layout.AppSettings("a"), "{\"KEEP\":\"me\"}");
        var deployer = new DirectoryConnectorDeployer(_layout);
        var connector = new ConnectorTarget("a");
        var (first, second) = (B("1"), B("2"));
        var hangGuard = TimeSpan.FromSeconds(30);

        // Writer 1 is held between its read and its write; writer 2 starts meanwhile. Writer 2 either queues behind
        // writer 1 (the per-connector lock) or reads the settings writer 1 has not written yet (a lost update): the seams
        // report whichever happens, so the outcome does not depend on timing.
        var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondQueued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondRead = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        deployer.SettingsWriteQueued = (_, build) =>
        {
            if (build == second)
            {
                secondQueued.TrySetResult();
            }
        };
        deployer.SettingsRead = async (_, build, version) =>
        {
            if (build == first)
            {
                firstRead.TrySetResult();
                await releaseFirst.Task;
            }
            else
            {
                secondRead.TrySetResult(version);
            }
        };

        var writeFirst = deployer.SetProjectVersionAsync(connector, first);
        Task writeSecond;
        try
        {
            await firstRead.Task.WaitAsync(hangGuard);
            writeSecond = deployer.SetProjectVersionAsync(connector, second);
            var verdict = await Task.WhenAny(secondQueued.Task, secondRead.Task).WaitAsync(hangGuard);
            if (verdict == secondRead.Task)
            {
                Assert.Fail($"Writer 2 read the settings (PROJECT_VERSION {await secondRead.Task ?? "unset"}) while writer 1 was between its read and its write: the settings writes to one connector are not serialised.");
            }
        }
        finally
        {
            releaseFirst.TrySetResult();
        }

        await Task.WhenAll(writeFirst, writeSecond).WaitAsync(hangGuard);

        // Writer 2 read the file writer 1 wrote, so it kept writer 1's result (and every other setting) and won.
        Assert.Equal(first.ToString(), await secondRead.Task);
        var settings = await deployer.GetSettingsAsync(connector);
        Assert.Equal("me", settings["KEEP"]);
        Assert.Equal(second.ToString(), settings[ProjectVersionSetting.Name]);
        Assert.Equal(second.ToString(), await deployer.GetProjectVersionAsync(connector));
        Assert.Equal(["KEEP", ProjectVersionSetting.Name], settings.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["appsettings.json"], Directory.GetFiles(_layout.ConnectorFolder("a"), "appsettings*").Select(Path.GetFileName));
    }

    public static TheoryData<string, byte[]> BadPackages() => new()
    {
        { "escapes", TestPackages.Zip(("../evil.txt", "x")) },
        { "escapes", TestPackages.Zip(("site/../../evil.txt", "x")) },
        { "escapes", TestPackages.Zip(("/etc/evil", "x")) },
        { "more than the", TestPackages.Zip(Enumerable.Range(0, 11).Select(i => ($"f{i}.txt", "x")).ToArray()) },
        { "extracts to more than", TestPackages.Zip(("big.txt", new string('x', 5000))) },
        { "not a valid zip", "this is not a zip"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(BadPackages))]
    public async Task A_bad_package_is_rejected_before_anything_changes(string problem, byte[] package)
    {
        var layout = new LocalLayout(new LocalProviderOptions { Root = _root, MaxEntries = 10, MaxExtractedBytes = 4096 });
        var fleet = new LocalFleet(layout);
        await fleet.AddAsync(["a"]);
        var deployer = new DirectoryConnectorDeployer(layout);
        await deployer.DeployAsync(new ConnectorTarget("a"), ArtifactPackage.FromBytes(B("1"), TestPackages.Zip(("app.dll", "v1"))));
        var before = Snapshot();

        var ex = await Assert.ThrowsAsync<InvalidPackageException>(() => deployer.DeployAsync(new ConnectorTarget("a"), new ArtifactPackage(B("2"), package, ContentHash.Sha256Hex(package))));

        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
        Assert.False(File.Exists(Path.Combine(_root, "evil.txt")));
    }

    [Fact]
    public async Task A_missing_connector_is_not_found_for_every_operation()
    {
        var deployer = new DirectoryConnectorDeployer(_layout);
        var gone = new ConnectorTarget("gone");
        var package = ArtifactPackage.FromBytes(B("1"), TestPackages.ForBuild("1"));

        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.DeployAsync(gone, package));
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.SetProjectVersionAsync(gone, B("1")));
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.GetProjectVersionAsync(gone));
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.GetProjectVersionAsync(new ConnectorTarget("../x")));
        Assert.False(Directory.Exists(_layout.ConnectorFolder("gone")));
    }

    [Fact]
    public async Task The_packager_is_deterministic_and_detects_content_changes()
    {
        var folder = Path.Combine(_root, "build");
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        File.WriteAllText(Path.Combine(folder, "host.json"), "{}");
        File.WriteAllText(Path.Combine(folder, "bin", "app.dll"), "v1");

        var first = await DeterministicPackager.PackageAsync(folder);
        File.SetLastWriteTimeUtc(Path.Combine(folder, "host.json"), DateTime.UtcNow.AddDays(-3));
        var second = await DeterministicPackager.PackageAsync(folder);
        File.WriteAllText(Path.Combine(folder, "bin", "app.dll"), "v2");
        var changed = await DeterministicPackager.PackageAsync(folder);

        Assert.Equal(first, second);
        Assert.NotEqual(ContentHash.Sha256Hex(first), ContentHash.Sha256Hex(changed));
        using var zip = new ZipArchive(new MemoryStream(first));
        Assert.Equal(["bin/app.dll", "host.json"], zip.Entries.Select(e => e.FullName));
        Assert.All(zip.Entries, e => Assert.Equal(DeterministicPackager.EntryTimestamp.Year, e.LastWriteTime.Year));
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => DeterministicPackager.PackageAsync(Path.Combine(_root, "missing")));
        Directory.CreateDirectory(Path.Combine(_root, "empty"));
        await Assert.ThrowsAsync<ArgumentException>(() => DeterministicPackager.PackageAsync(Path.Combine(_root, "empty")));
    }

    [Fact]
    public async Task Delivery_refuses_a_corrupt_zip_and_skips_unchanged_content_when_asked()
    {
        var store = Store();
        var delivery = new DeliveryService(store, new FakeLogger<DeliveryService>(_logs));
        var v1 = TestPackages.ForBuild("1");

        Assert.Equal(DeliveryOutcome.Delivered, (await delivery.DeliverAsync(B("1"), v1)).Outcome);
        Assert.Equal(DeliveryOutcome.AlreadyDelivered, (await delivery.DeliverAsync(B("1"), v1)).Outcome);
        var unchanged = await delivery.DeliverAsync(B("2"), v1, ifChanged: true);
        var before = Snapshot();
        var corrupt = v1.ToArray();
        corrupt[corrupt.Length / 2] ^= 0xFF;
        await Assert.ThrowsAsync<InvalidPackageException>(() => delivery.DeliverAsync(B("3"), corrupt));
        await Assert.ThrowsAsync<InvalidPackageException>(() => delivery.DeliverAsync(B("3"), Encoding.UTF8.GetBytes("nope")));

        Assert.Equal(DeliveryOutcome.Unchanged, unchanged.Outcome);
        Assert.Equal(B("1"), unchanged.NewestBuild);
        Assert.Equal(before, Snapshot());
        Assert.Equal(DeliveryOutcome.Delivered, (await delivery.DeliverAsync(B("2"), TestPackages.ForBuild("2"), ifChanged: true)).Outcome);
    }

    [Fact]
    public async Task The_file_lock_admits_one_rollout_across_instances()
    {
        Directory.CreateDirectory(_root);
        var a = new FileRolloutLock(_layout);
        var b = new FileRolloutLock(_layout);

        var held = await a.TryAcquireAsync("a");
        Assert.NotNull(held);
        Assert.Null(await b.TryAcquireAsync("b"));
        await held.DisposeAsync();
        var next = await b.TryAcquireAsync("b");
        Assert.NotNull(next);
        await next.DisposeAsync();
    }

    [Fact]
    public async Task The_file_lock_never_creates_a_missing_root()
    {
        var ex = await Assert.ThrowsAsync<ArtifactStoreException>(() => new FileRolloutLock(_layout).TryAcquireAsync("a"));

        Assert.Contains(_root, ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_root));
    }

    [UnixFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_packager_records_normalised_unix_modes_keeping_execute_bits()
    {
        var folder = Path.Combine(_root, "modes");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "run.sh"), "#!/bin/sh");
        File.WriteAllText(Path.Combine(folder, "data.txt"), "x");
        File.SetUnixFileMode(Path.Combine(folder, "run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(Path.Combine(folder, "data.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);

        var first = await DeterministicPackager.PackageAsync(folder);
        File.SetUnixFileMode(Path.Combine(folder, "data.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var second = await DeterministicPackager.PackageAsync(folder);

        using var zip = new ZipArchive(new MemoryStream(first));
        Assert.Equal(0x81EDu, (uint)zip.GetEntry("run.sh")!.ExternalAttributes >> 16);
        Assert.Equal(0x81A4u, (uint)zip.GetEntry("data.txt")!.ExternalAttributes >> 16);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Connectors_file_shape_is_a_json_array_of_ids()
    {
        var fleet = new LocalFleet(_layout);
        await fleet.AddAsync(["b", "a"]);
        await fleet.SetCanaryAsync("a");

        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(_layout.ConnectorsFile));

        Assert.Equal(JsonValueKind.Array, file.RootElement.ValueKind);
        var ids = file.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToList();
        Assert.Equal(["a", "b"], ids.Order(StringComparer.Ordinal));
        Assert.All(file.RootElement.EnumerateArray(), e => Assert.Equal(JsonValueKind.String, e.GetProperty("id").ValueKind));
        Assert.Equal([new LocalConnector("a", Canary: true), new LocalConnector("b")], (await fleet.ReadAsync()).OrderBy(c => c.Id, StringComparer.Ordinal));
    }
}
