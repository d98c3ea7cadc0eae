using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using IoMT.Deployment.Testing;
using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.Cosmos.Tests;

/// <summary>The rollout record and the pins, stored in the version state document under its ETag.</summary>
[Collection(CosmosServerCollection.Name)]
public sealed class CosmosVersionStoreRolloutTests(CosmosServerFixture fixture)
{
    private const string StateId = CosmosVersionStoreOptions.DefaultStateDocumentId;

    private (CosmosVersionStore Store, Container Container) NewStore()
    {
        var options = fixture.Use(new CosmosVersionStoreOptions());
        return (new CosmosVersionStore(fixture.Client, options), fixture.Client.GetContainer(options.DatabaseName, options.ContainerName));
    }

    [Fact]
    public async Task A_full_rollout_record_and_pins_round_trip_field_for_field()
    {
        var (store, container) = NewStore();
        var state = RolloutSamples.State();
        AssertEveryPropertySet(state.Rollout!);
        AssertEveryPropertySet(state.Rollout!.Waves[1]);

        var eTag = await store.WriteAsync(state, null);
        var read = await store.ReadAsync();

        Assert.Equal(eTag, read.ETag);
        Assert.Equivalent(state, read.State, strict: true);
        Assert.Null(read.State.Rollout!.Commands[1].Reason);
        Assert.True(read.State.Pins[1].Excluded);
        Assert.Equal(RolloutSamples.T0.Offset, read.State.Rollout.StartedAt.Offset);

        // The stored shape: camelCase, enums by name, build numbers as strings, the new schema version.
        using var raw = await CosmosServerFixture.ReadRawAsync(container, StateId, StateId);
        var root = raw.RootElement;
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        var rollout = root.GetProperty("rollout");
        Assert.Equal("Paused", rollout.GetProperty("status").GetString());
        Assert.Equal("Baking", rollout.GetProperty("pausedFrom").GetString());
        Assert.Equal("20260301.2", rollout.GetProperty("target").GetString());
        Assert.True(rollout.GetProperty("promoteFull").GetBoolean());
        Assert.Equal("Deploying", rollout.GetProperty("waves")[1].GetProperty("status").GetString());
        Assert.Equal(7, rollout.GetProperty("waves")[1].GetProperty("noData").GetInt32());
        Assert.Equal("Resume", rollout.GetProperty("commands")[1].GetProperty("action").GetString());
        Assert.Equal("contoso-iomt-00000", rollout.GetProperty("failedConnectors")[0].GetProperty("connector").GetString());
        Assert.Equal("20260201.7", root.GetProperty("pins")[0].GetProperty("build").GetString());
        Assert.False(root.GetProperty("pins")[1].TryGetProperty("build", out _));
        Assert.False(rollout.TryGetProperty("isActive", out _));
    }

    [Fact]
    public async Task A_stale_etag_is_a_conflict_when_only_the_rollout_record_changed()
    {
        var (store, _) = NewStore();
        var first = await store.WriteAsync(RolloutSamples.State(), null);
        var seen = (await store.ReadAsync()).State;
        var baking = seen with { Rollout = seen.Rollout! with { Status = RolloutStatus.Baking, PausedFrom = null } };
        var second = await store.WriteAsync(baking, first);

        // A second controller that read before the first wrote tries to move the same rollout on.
        var stale = seen with { Rollout = seen.Rollout! with { Status = RolloutStatus.Halted } };
        await Assert.ThrowsAsync<VersionStateConflictException>(() => store.WriteAsync(stale, first));

        var read = await store.ReadAsync();
        Assert.Equal(second, read.ETag);
        Assert.Equal(RolloutStatus.Baking, read.State.Rollout!.Status);
    }

    [Fact]
    public async Task A_pin_change_alone_changes_the_etag_and_a_stale_one_conflicts()
    {
        var (store, _) = NewStore();
        var first = await store.WriteAsync(VersionState.Empty with { Current = BuildNumber.Parse("1") }, null);
        var pin = new ConnectorPin("contoso", BuildNumber.Parse("1"), "customer freeze", "ops", RolloutSamples.T0);
        var second = await store.WriteAsync((await store.ReadAsync()).State.WithPin(pin), first);

        await Assert.ThrowsAsync<VersionStateConflictException>(() => store.WriteAsync(VersionState.Empty with { Current = BuildNumber.Parse("2") }, first));

        var read = await store.ReadAsync();
        Assert.Equal(second, read.ETag);
        Assert.Equal(pin, Assert.Single(read.State.Pins));
    }

    [Fact]
    public async Task A_document_written_before_rollouts_reads_with_no_rollout_and_no_pins()
    {
        var (store, container) = NewStore();
        await store.ReadAsync(); // creates the container
        await CosmosServerFixture.PutRawAsync(
            container,
            """{"id":"version-state","type":"versionState","schemaVersion":1,"current":"20201105.3","inFlight":null,"invalidated":[{"build":"20201105.4","reason":"bad","at":"2020-11-05T10:00:00Z","actor":"ops"}],"updatedAt":"2020-11-05T10:00:00Z"}""",
            StateId);

        var read = await store.ReadAsync();

        Assert.Null(read.State.Rollout);
        Assert.Empty(read.State.Pins);
        Assert.Equal(BuildNumber.Parse("20201105.3"), read.State.Current);
        Assert.Single(read.State.Invalidated);
    }

    [Fact]
    public async Task A_state_without_rollout_or_pins_is_still_written_as_schema_version_1()
    {
        // A reader of version 1 can go on reading it; one with a rollout is refused by such a reader rather than
        // having the record dropped by its next write.
        var (store, container) = NewStore();
        var eTag = await store.WriteAsync(VersionState.Empty with { Current = BuildNumber.Parse("1") }, null);

        using (var raw = await CosmosServerFixture.ReadRawAsync(container, StateId, StateId))
        {
            Assert.Equal(1, raw.RootElement.GetProperty("schemaVersion").GetInt32());
            Assert.False(raw.RootElement.TryGetProperty("rollout", out _));
            Assert.False(raw.RootElement.TryGetProperty("pins", out _));
        }

        await store.WriteAsync(RolloutSamples.State(), eTag);
        using var withRollout = await CosmosServerFixture.ReadRawAsync(container, StateId, StateId);
        Assert.Equal(2, withRollout.RootElement.GetProperty("schemaVersion").GetInt32());
    }

    [Theory]
    [InlineData("rollout.status", "Exploded", "'rollout.status' is 'Exploded'")]
    [InlineData("rollout.status", "paused", "'rollout.status' is 'paused'")]
    [InlineData("rollout.status", "3", "'rollout.status' is '3'")]
    [InlineData("rollout.status", 3, "$.rollout.status")]
    [InlineData("rollout.pausedFrom", "Running, Baking", "'rollout.pausedFrom' is 'Running, Baking'")]
    [InlineData("rollout.waves.1.status", "Sideways", "'rollout.waves[1].status' is 'Sideways'")]
    [InlineData("rollout.waves.2.failed", -1, "'rollout.waves[2].failed' is -1")]
    [InlineData("rollout.commands.0.action", "Nuke", "'rollout.commands[0].action' is 'Nuke'")]
    [InlineData("rollout.target", "not a build", "$.rollout.target")]
    [InlineData("rollout.waves.0", null, "'rollout.waves' holds a null entry")]
    [InlineData("pins.1.connector", "", "'pins[1].connector' is empty")]
    [InlineData("pins.0.build", "banana", "$.pins[0].build")]
    public async Task A_corrupt_rollout_or_pin_field_gives_an_error_naming_the_document_and_the_field(string path, object? value, string cause)
    {
        var (store, container) = NewStore();
        await store.WriteAsync(RolloutSamples.State(), null);
        using var raw = await CosmosServerFixture.ReadRawAsync(container, StateId, StateId);
        var document = JsonNode.Parse(raw.RootElement.GetRawText())!;
        var segments = path.Split('.');
        var parent = segments[..^1].Aggregate(document, (node, segment) => int.TryParse(segment, out var i) ? node[i]! : node[segment]!);
        var replacement = JsonValue.Create(value);
        if (int.TryParse(segments[^1], out var index))
        {
            parent[index] = replacement;
        }
        else
        {
            parent[segments[^1]] = replacement;
        }

        await CosmosServerFixture.PutRawAsync(container, document.ToJsonString(), StateId);

        var error = await Assert.ThrowsAsync<VersionStoreException>(() => store.ReadAsync());

        Assert.Contains("'version-state'", error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
        Assert.Contains(cause, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undefined_enum_value_is_refused_on_write_naming_the_field_and_nothing_is_written()
    {
        var (store, _) = NewStore();
        var state = RolloutSamples.State();
        state = state with { Rollout = state.Rollout!.WithWave(1, state.Rollout.Waves[1] with { Status = (WaveStatus)42 }) };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync(state, null));

        Assert.Contains("rollout.waves[1].status", error.Message, StringComparison.Ordinal);
        Assert.Null((await store.ReadAsync()).ETag);
    }

    [Fact]
    public async Task The_stored_document_stays_under_64_KB_at_10000_connectors_with_full_lists_long_reasons_and_200_pins()
    {
        var (store, container) = NewStore();

        // 10,000 connectors: the record holds counts per wave; the failures and commands handed in exceed the caps and
        // every reason is far over its cap. Pins carry what an operator types (about 40 characters).
        var record = RolloutSamples.Record(waves: 5, failedConnectors: 10_000, commands: 500, reasonLength: 5_000);
        var state = RolloutSamples.State() with { Rollout = record, Pins = RolloutSamples.Pins(200, reasonLength: 40) };
        await store.WriteAsync(state, null);

        var stored = await StoredBytesAsync(container);
        var sent = JsonSerializer.SerializeToUtf8Bytes(VersionStateDocument.Create(StateId, state), CosmosJsonContext.Default.VersionStateDocument).Length;
        var recordOnly = JsonSerializer.SerializeToUtf8Bytes(VersionStateDocument.Create(StateId, state with { Pins = [] }), CosmosJsonContext.Default.VersionStateDocument).Length;
        Assert.InRange(stored, 1, 64 * 1024);
        Assert.InRange(sent, 1, 64 * 1024);
        Assert.InRange(recordOnly, 1, 32 * 1024); // at most half the budget whatever the fleet size; the rest is for pins

        var read = (await store.ReadAsync()).State;
        var rollout = read.Rollout!;
        Assert.Equal(RolloutRecord.MaxFailedConnectors, rollout.FailedConnectors.Count);
        Assert.Equal("contoso-iomt-00000", rollout.FailedConnectors[0].Connector); // the first failures are kept
        Assert.Equal(RolloutRecord.MaxCommands, rollout.Commands.Count);
        Assert.Equal(RolloutSamples.T0.AddMinutes(499), rollout.Commands[^1].At); // the latest commands are kept
        Assert.Equal(200, read.Pins.Count);
        AssertShortened(StoredText.MaxSummaryLength, rollout.StatusReason!, rollout.Waves[4].Verdict!);
        AssertShortened(StoredText.MaxReasonLength, rollout.FailedConnectors[49].Reason, rollout.Commands[^1].Reason!);
        Assert.StartsWith("Kudu zip deploy of connector 49 returned HTTP 500: ", rollout.FailedConnectors[49].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pin_and_invalidation_reasons_are_shortened_when_stored()
    {
        var (store, _) = NewStore();
        var state = VersionState.Empty
            .WithPin(new ConnectorPin("contoso", null, RolloutSamples.Text("excluded: ", 5_000), "ops", RolloutSamples.T0))
            .WithInvalidated(new BuildInvalidation(BuildNumber.Parse("7"), RolloutSamples.Text("wave canary halted: ", 5_000), RolloutSamples.T0, "rollout"));

        await store.WriteAsync(state, null);

        var read = (await store.ReadAsync()).State;
        AssertShortened(StoredText.MaxReasonLength, read.Pins[0].Reason);
        AssertShortened(StoredText.MaxSummaryLength, read.Invalidated[0].Reason);
    }

    [Fact]
    public void Shortening_never_splits_a_surrogate_pair_and_leaves_short_text_alone()
    {
        var emoji = "\U0001F525"; // two UTF-16 code units
        var text = new string('a', StoredText.MaxReasonLength - 2) + emoji + "tail";

        var shortened = StoredText.Shorten(text, StoredText.MaxReasonLength)!;

        Assert.Equal(StoredText.MaxReasonLength - 1, shortened.Length);
        Assert.EndsWith("a…", shortened, StringComparison.Ordinal);
        Assert.Same("short", StoredText.Shorten("short", StoredText.MaxReasonLength));
        Assert.Null(StoredText.Shorten(null, StoredText.MaxReasonLength));
        var exact = new string('b', StoredText.MaxReasonLength);
        Assert.Same(exact, StoredText.Shorten(exact, StoredText.MaxReasonLength));
    }

    private static void AssertShortened(int maxLength, params string[] texts) =>
        Assert.All(texts, text =>
        {
            Assert.Equal(maxLength, text.Length);
            Assert.EndsWith("…", text, StringComparison.Ordinal);
        });

    private static async Task<long> StoredBytesAsync(Container container)
    {
        using var response = await container.ReadItemStreamAsync(StateId, new PartitionKey(StateId));
        response.EnsureSuccessStatusCode();
        using var stored = new MemoryStream();
        await response.Content.CopyToAsync(stored);
        return stored.Length;
    }

    /// <summary>Guards the mapping: a property added to the record without a value here would go untested.</summary>
    private static void AssertEveryPropertySet(object value)
    {
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var actual = property.GetValue(value);
            var unset = actual is null
                || (actual is ICollection { Count: 0 })
                || (property.PropertyType.IsValueType && Nullable.GetUnderlyingType(property.PropertyType) is null && actual.Equals(Activator.CreateInstance(property.PropertyType)));
            Assert.False(unset, $"{value.GetType().Name}.{property.Name} has its default value in the sample; set it so the round trip covers it.");
        }
    }
}
