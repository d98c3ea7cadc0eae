using System.Net;
using System.Text.Json;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging.Testing;

namespace IoMT.Deployment.Cosmos.Tests;

[Collection(CosmosServerCollection.Name)]
public sealed class CosmosVersionStoreTests(CosmosServerFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private (CosmosVersionStore Store, CosmosVersionStoreOptions Options) NewStore(Action<CosmosVersionStoreOptions>? configure = null, FakeLogger<CosmosVersionStore>? logger = null)
    {
        var options = fixture.Use(new CosmosVersionStoreOptions());
        configure?.Invoke(options);
        return (new CosmosVersionStore(fixture.Client, options, logger), options);
    }

    private Container ContainerOf(CosmosVersionStoreOptions options) => fixture.Client.GetContainer(options.DatabaseName, options.ContainerName);

    private static VersionState State(string? current, string? inFlight = null, params BuildInvalidation[] invalidated) => new()
    {
        Current = current is null ? null : BuildNumber.Parse(current),
        InFlight = inFlight is null ? null : BuildNumber.Parse(inFlight),
        Invalidated = invalidated,
        UpdatedAt = T0,
    };

    private static RolloutHistoryEntry Entry(int n) => new()
    {
        Id = $"rollout-{n}",
        Kind = n % 2 == 0 ? RolloutKind.Update : RolloutKind.Straggler,
        From = n == 1 ? null : BuildNumber.Parse($"20240301.{n - 1}"),
        To = BuildNumber.Parse($"20240301.{n}"),
        StartedAt = T0.AddHours(n),
        CompletedAt = T0.AddHours(n).AddMinutes(5),
        Succeeded = n % 3 != 0,
        Counts = new Dictionary<string, int> { ["Updated"] = n, ["Failed"] = n % 3 },
    };

    [Fact]
    public async Task Read_of_an_empty_store_returns_the_empty_state_with_no_etag()
    {
        var (store, _) = NewStore();

        var entry = await store.ReadAsync();

        Assert.Same(VersionState.Empty, entry.State);
        Assert.Null(entry.ETag);
    }

    [Fact]
    public async Task First_write_into_an_empty_store_creates_the_state_and_returns_its_etag()
    {
        var (store, options) = NewStore();

        var eTag = await store.WriteAsync(State("20240301.1"), expectedETag: null);
        var read = await store.ReadAsync();

        Assert.False(string.IsNullOrEmpty(eTag));
        Assert.Equal(eTag, read.ETag);
        Assert.Equal(BuildNumber.Parse("20240301.1"), read.State.Current);
        Assert.Null(read.State.InFlight);
        Assert.Empty(read.State.Invalidated);
        Assert.Equal(T0, read.State.UpdatedAt);

        // Stored under the configured id, with build numbers as strings (System.Text.Json with BuildNumber's converter).
        using var raw = await CosmosServerFixture.ReadRawAsync(ContainerOf(options), CosmosVersionStoreOptions.DefaultStateDocumentId, CosmosVersionStoreOptions.DefaultStateDocumentId);
        Assert.Equal("20240301.1", raw.RootElement.GetProperty("current").GetString());
        Assert.Equal("versionState", raw.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task First_write_when_a_state_already_exists_is_a_conflict_and_changes_nothing()
    {
        var (store, _) = NewStore();
        var eTag = await store.WriteAsync(State("1"), null);

        await Assert.ThrowsAsync<VersionStateConflictException>(() => store.WriteAsync(State("2"), null));

        var read = await store.ReadAsync();
        Assert.Equal(BuildNumber.Parse("1"), read.State.Current);
        Assert.Equal(eTag, read.ETag);
    }

    [Fact]
    public async Task Two_writers_at_once_exactly_one_wins_and_the_other_gets_the_conflict()
    {
        var (store, _) = NewStore();
        await store.WriteAsync(State("1"), null);
        var seen = await store.ReadAsync();

        var attempts = await Task.WhenAll(
            Attempt(store, State("1", inFlight: "2"), seen.ETag),
            Attempt(store, State("1", inFlight: "3"), seen.ETag));

        Assert.Single(attempts, a => a.ETag is not null);
        Assert.Single(attempts, a => a.Error is VersionStateConflictException);
        var winner = attempts.Single(a => a.ETag is not null);
        var read = await store.ReadAsync();
        Assert.Equal(winner.ETag, read.ETag);
        Assert.Equal(winner.State.InFlight, read.State.InFlight);
    }

    [Fact]
    public async Task Two_first_writers_at_once_exactly_one_creates_the_state()
    {
        var (store, _) = NewStore();

        var attempts = await Task.WhenAll(
            Attempt(store, State("7"), null),
            Attempt(store, State("8"), null));

        Assert.Single(attempts, a => a.ETag is not null);
        Assert.Single(attempts, a => a.Error is VersionStateConflictException);
        var winner = attempts.Single(a => a.ETag is not null);
        var read = await store.ReadAsync();
        Assert.Equal(winner.ETag, read.ETag);
        Assert.Equal(winner.State.Current, read.State.Current);
    }

    [Fact]
    public async Task A_stale_etag_gets_the_conflict_and_changes_nothing()
    {
        var (store, _) = NewStore();
        var first = await store.WriteAsync(State("1"), null);
        var second = await store.WriteAsync(State("2"), first);

        var error = await Assert.ThrowsAsync<VersionStateConflictException>(() => store.WriteAsync(State("3"), first));

        Assert.Contains(CosmosVersionStoreOptions.DefaultStateDocumentId, error.Message, StringComparison.Ordinal);
        var read = await store.ReadAsync();
        Assert.Equal(second, read.ETag);
        Assert.Equal(BuildNumber.Parse("2"), read.State.Current);
    }

    [Fact]
    public async Task Invalidate_and_reinstate_round_trip_keeps_builds_reasons_and_nulls()
    {
        var (store, _) = NewStore();
        var bad = new BuildInvalidation(BuildNumber.Parse("20201105.10"), "crashes on start", T0.AddMinutes(3), "oncall@contoso");
        var inFlight = State(current: null, inFlight: "20201105.10");
        var eTag = await store.WriteAsync(inFlight, null);

        var afterWrite = (await store.ReadAsync()).State;
        Assert.Null(afterWrite.Current);
        Assert.Equal(BuildNumber.Parse("20201105.10"), afterWrite.InFlight);

        eTag = await store.WriteAsync(afterWrite.WithInvalidated(bad) with { InFlight = null, Current = BuildNumber.Parse("20201105.9") }, eTag);
        var invalidated = await store.ReadAsync();
        Assert.Equal(eTag, invalidated.ETag);
        Assert.Null(invalidated.State.InFlight);
        Assert.Equal(BuildNumber.Parse("20201105.9"), invalidated.State.Current);
        var stored = Assert.Single(invalidated.State.Invalidated);
        Assert.Equal(bad, stored);
        Assert.True(invalidated.State.IsInvalidated(BuildNumber.Parse("20201105.10")));
        Assert.True(BuildNumber.Parse("20201105.10") > invalidated.State.Current!.Value);

        await store.WriteAsync(invalidated.State.WithReinstated(bad.Build), invalidated.ETag);
        var reinstated = (await store.ReadAsync()).State;
        Assert.Empty(reinstated.Invalidated);
        Assert.Equal(BuildNumber.Parse("20201105.9"), reinstated.Current);
        Assert.Null(reinstated.InFlight);
    }

    [Fact]
    public async Task History_is_bounded_and_read_newest_first()
    {
        var logger = new FakeLogger<CosmosVersionStore>();
        var (store, options) = NewStore(o => o.HistoryLimit = 5, logger);

        for (var n = 1; n <= 8; n++)
        {
            await store.AppendHistoryAsync(Entry(n));
        }

        var history = await store.ReadHistoryAsync(100);
        Assert.Equal(["rollout-8", "rollout-7", "rollout-6", "rollout-5", "rollout-4"], history.Select(h => h.Id));
        Assert.Equivalent(Entry(8), history[0], strict: true);
        Assert.Equal(["rollout-8", "rollout-7"], (await store.ReadHistoryAsync(2)).Select(h => h.Id));
        Assert.Empty(await store.ReadHistoryAsync(0));

        // The oldest were deleted, not just hidden: the container holds exactly the limit.
        Assert.Equal(5, await CountAsync(ContainerOf(options), "rolloutHistory"));
        Assert.Equal(3, logger.Collector.GetSnapshot().Where(r => r.Id.Id == 3113).Sum(r => int.Parse(r.StructuredState!.Single(s => s.Key == "Count").Value!, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task History_does_not_touch_the_state_document()
    {
        var (store, _) = NewStore();
        var eTag = await store.WriteAsync(State("1"), null);

        await store.AppendHistoryAsync(Entry(1));

        Assert.Equal(eTag, (await store.ReadAsync()).ETag);
        var next = await store.WriteAsync(State("2"), eTag); // the ETag read before the append still holds
        Assert.Equal(next, (await store.ReadAsync()).ETag);
    }

    [Fact]
    public async Task Appending_the_same_rollout_again_right_after_itself_stores_it_once()
    {
        var (store, _) = NewStore();

        await store.AppendHistoryAsync(Entry(1));
        await store.AppendHistoryAsync(Entry(2));
        await store.AppendHistoryAsync(Entry(2));

        Assert.Equal(["rollout-2", "rollout-1"], (await store.ReadHistoryAsync(10)).Select(h => h.Id));
    }

    [Fact]
    public async Task Concurrent_appends_each_get_their_own_place_in_the_history()
    {
        var (store, _) = NewStore(o => o.HistoryLimit = 50);

        await Task.WhenAll(Enumerable.Range(1, 6).Select(n => store.AppendHistoryAsync(Entry(n))));

        var history = await store.ReadHistoryAsync(50);
        Assert.Equal(6, history.Count);
        Assert.Equal(6, history.Select(h => h.Id).Distinct().Count());
    }

    [Theory]
    [InlineData("""{"current":"banana"}""", "banana")]
    [InlineData("""{"current":17}""", "current")]
    [InlineData("""{"invalidated":"everything"}""", "invalidated")]
    [InlineData("""{"invalidated":[{"reason":"no build","at":"2024-03-01T00:00:00Z"}]}""", "build")]
    [InlineData("""{"invalidated":[null]}""", "null")]
    public async Task A_corrupt_state_document_gives_an_error_that_names_the_document(string fields, string cause)
    {
        var (store, options) = NewStore();
        await store.ReadAsync(); // creates the container
        var json = """{"id":"version-state","type":"versionState","schemaVersion":1,""" + fields[1..];
        await CosmosServerFixture.PutRawAsync(ContainerOf(options), json, "version-state");

        var error = await Assert.ThrowsAsync<VersionStoreException>(() => store.ReadAsync());

        Assert.Contains("'version-state'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{options.DatabaseName}/{options.ContainerName}", error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
        Assert.Contains(cause, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"id":"version-state","type":"somethingElse","schemaVersion":1}""", "somethingElse")]
    [InlineData("""{"id":"version-state","type":"versionState","schemaVersion":9}""", "schemaVersion 9")]
    [InlineData("""{"id":"version-state","schemaVersion":1}""", "type")]
    public async Task A_state_document_of_another_type_or_schema_is_refused_by_name(string json, string cause)
    {
        var (store, options) = NewStore();
        await store.ReadAsync();
        await CosmosServerFixture.PutRawAsync(ContainerOf(options), json, "version-state");

        var error = await Assert.ThrowsAsync<VersionStoreException>(() => store.ReadAsync());

        Assert.Contains("'version-state'", error.Message, StringComparison.Ordinal);
        Assert.Contains(cause, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_history_document_gives_an_error_that_names_it()
    {
        var (store, options) = NewStore();
        await store.AppendHistoryAsync(Entry(1));
        var id = "version-state.history.0000000000000000002";
        await CosmosServerFixture.PutRawAsync(
            ContainerOf(options),
            $$"""{"id":"{{id}}","type":"rolloutHistory","schemaVersion":1,"stateId":"version-state","sequence":2,"rolloutId":"x","kind":"Update","to":"not a build","startedAt":"2024-03-01T00:00:00Z","completedAt":"2024-03-01T00:00:00Z","succeeded":true}""",
            id);

        var error = await Assert.ThrowsAsync<VersionStoreException>(() => store.ReadHistoryAsync(10));

        Assert.Contains(id, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_container_is_an_error_naming_database_and_container_when_creating_is_off()
    {
        var (store, options) = NewStore(o => o.CreateIfMissing = false);

        var error = await Assert.ThrowsAsync<VersionStoreException>(() => store.ReadAsync());

        Assert.Contains($"'{options.ContainerName}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{options.DatabaseName}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("CreateIfMissing", error.Message, StringComparison.Ordinal);
        Assert.Empty(await DatabasesNamedAsync(options.DatabaseName!)); // nothing was created
    }

    [Fact]
    public async Task An_existing_container_is_used_when_creating_is_off()
    {
        var (store, options) = NewStore(o => o.CreateIfMissing = false);
        await fixture.CreateContainerAsync(options.DatabaseName!, options.ContainerName!, "/id");

        await store.WriteAsync(State("4"), null);

        Assert.Equal(BuildNumber.Parse("4"), (await store.ReadAsync()).State.Current);
    }

    [Fact]
    public async Task A_container_with_another_partition_key_is_refused_by_name()
    {
        var (store, options) = NewStore(o => o.CreateIfMissing = false);
        await fixture.CreateContainerAsync(options.DatabaseName!, options.ContainerName!, "/tenant");

        var error = await Assert.ThrowsAsync<VersionStoreException>(() => store.ReadAsync());

        Assert.Contains("/tenant", error.Message, StringComparison.Ordinal);
        Assert.Contains("/id", error.Message, StringComparison.Ordinal);
        Assert.Contains(options.ContainerName!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_throttled_write_goes_through_the_sdk_retries_and_is_rethrown_as_the_cosmos_429()
    {
        var options = fixture.Use(new CosmosVersionStoreOptions());
        var throttling = false;
        using var handler = ThrottlingHandler.Install(fixture, options, r => Volatile.Read(ref throttling) && r.RequestUri!.AbsolutePath.Contains("/docs", StringComparison.Ordinal) && r.Method != HttpMethod.Get);
        using var client = CosmosClientSource<CosmosVersionStoreOptions>.Create(options);
        var store = new CosmosVersionStore(client, options);
        await store.ReadAsync();
        Volatile.Write(ref throttling, true);

        var throttled = await Assert.ThrowsAsync<StoreThrottledException>(() => store.WriteAsync(State("1"), null));
        Assert.True(throttled.IsTransient);
        var error = Assert.IsType<CosmosException>(throttled.InnerException);

        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal(3, handler.Throttled); // the first attempt and the SDK's two retries
        Volatile.Write(ref throttling, false);
        Assert.Null((await store.ReadAsync()).ETag);
    }

    private static async Task<(VersionState State, string? ETag, Exception? Error)> Attempt(CosmosVersionStore store, VersionState state, string? expectedETag)
    {
        await Task.Yield();
        try
        {
            return (state, await store.WriteAsync(state, expectedETag), null);
        }
        catch (VersionStateConflictException e)
        {
            return (state, null, e);
        }
    }

    private static async Task<int> CountAsync(Container container, string type)
    {
        using var iterator = container.GetItemQueryStreamIterator(
            new QueryDefinition("SELECT c.id FROM c WHERE c.type = @type").WithParameter("@type", type));
        var count = 0;
        while (iterator.HasMoreResults)
        {
            using var response = await iterator.ReadNextAsync();
            response.EnsureSuccessStatusCode();
            using var json = await JsonDocument.ParseAsync(response.Content);
            count += json.RootElement.GetProperty("Documents").GetArrayLength();
        }

        return count;
    }

    private async Task<List<string>> DatabasesNamedAsync(string name)
    {
        var names = new List<string>();
        using var iterator = fixture.Client.GetDatabaseQueryIterator<DatabaseProperties>();
        while (iterator.HasMoreResults)
        {
            foreach (var db in await iterator.ReadNextAsync())
            {
                if (db.Id == name)
                {
                    names.Add(db.Id);
                }
            }
        }

        return names;
    }
}
