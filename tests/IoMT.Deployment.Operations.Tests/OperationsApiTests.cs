using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace IoMT.Deployment.Operations.Tests;

/// <summary>The operations API over the real ASP.NET Core pipeline (Kestrel, JWT bearer, authorization, problem details).</summary>
public sealed class OperationsApiTests : IAsyncLifetime
{
    private ConsoleHost _host = null!;

    public async Task InitializeAsync() => _host = await ConsoleHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Liveness_and_the_dashboards_files_are_anonymous_but_hold_no_data()
    {
        using var anonymous = _host.Client();
        Assert.Equal("Healthy", await anonymous.GetStringAsync("healthz"));
        var page = await anonymous.GetAsync(string.Empty);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("IoMT deployment console", html, StringComparison.Ordinal);
        Assert.DoesNotContain("contoso", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("console.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("console.css")).StatusCode);
        using var settings = JsonDocument.Parse(await anonymous.GetStringAsync("settings.json"));
        Assert.Equal(2, settings.RootElement.GetProperty("refreshSeconds").GetInt32());

        using var noSlash = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _host.BaseAddress };
        var redirect = await noSlash.GetAsync("/operations");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/operations/", redirect.Headers.Location?.ToString());
    }

    [Theory]
    [InlineData("GET", "api/status")]
    [InlineData("GET", "api/rollout")]
    [InlineData("GET", "api/fleet")]
    [InlineData("GET", "api/history")]
    [InlineData("GET", "api/pins")]
    [InlineData("GET", "api/me")]
    [InlineData("POST", "api/rollout/pause")]
    [InlineData("POST", "api/builds/2/invalidate")]
    [InlineData("DELETE", "api/pins/contoso")]
    public async Task Every_data_endpoint_answers_401_without_a_token(string method, string path)
    {
        using var anonymous = _host.Client();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "GET" ? null : JsonContent.Create(new { reason = "x" }) };
        var response = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_401()
    {
        using var client = _host.Client(_host.Token("Olga Operator", "oid-1", [ConsoleHost.OperatorRole], audience: "api://some-other-app"));
        var response = await client.GetAsync("api/status");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("audience", response.Headers.WwwAuthenticate.Single().Parameter, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_expired_token_is_401()
    {
        using var longExpired = _host.Client(_host.Token("Olga Operator", "oid-1", [ConsoleHost.OperatorRole], expires: new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        var response = await longExpired.GetAsync("api/status");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", response.Headers.WwwAuthenticate.Single().Parameter, StringComparison.OrdinalIgnoreCase);

        // Lifetime is judged by the host's clock: the same token is good now and expired once that clock passes exp + skew.
        using var client = _host.Client(_host.Token("Olga Operator", "oid-1", [ConsoleHost.OperatorRole], expires: _host.Time.GetUtcNow().UtcDateTime.AddMinutes(30)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/status")).StatusCode);
        _host.Time.Advance(TimeSpan.FromMinutes(30) + TimeSpan.FromMinutes(4));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/status")).StatusCode);
        _host.Time.Advance(TimeSpan.FromMinutes(2));
        var expired = await client.GetAsync("api/status");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", expired.Headers.WwwAuthenticate.Single().Parameter, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_token_not_valid_yet_is_401()
    {
        // Valid from one hour ahead of the host's clock (nbf = exp - 2 h).
        using var client = _host.Client(_host.Token("Olga Operator", "oid-1", [ConsoleHost.OperatorRole], expires: _host.Time.GetUtcNow().UtcDateTime.AddHours(3)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/status")).StatusCode);
        _host.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/status")).StatusCode);
    }

    [Fact]
    public async Task A_token_signed_by_another_key_or_issuer_is_401()
    {
        var otherKey = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "test-key" };
        using var forged = _host.Client(_host.Token("Mallory", "oid-m", [ConsoleHost.OperatorRole], signingKey: otherKey));
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("api/status")).StatusCode);
        using var otherIssuer = _host.Client(_host.Token("Mallory", "oid-m", [ConsoleHost.OperatorRole], issuer: "https://elsewhere.test/"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherIssuer.GetAsync("api/status")).StatusCode);
    }

    [Fact]
    public async Task A_token_without_a_console_role_is_403_even_for_reads()
    {
        using var client = _host.Client(_host.Token("Nobody", "oid-n", ["Some.Other.Role"]));
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("api/status")).StatusCode);
    }

    [Fact]
    public async Task A_token_without_an_object_id_gets_a_problem_and_no_action()
    {
        using var client = _host.Client(_host.Token("Anonymous Operator", string.Empty, [ConsoleHost.OperatorRole]));
        var response = await client.PostAsJsonAsync("api/rollout/pause", new { reason = "who am I" });
        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("noActor", problem.GetProperty("error").GetString());
        Assert.Equal(RolloutStatus.Baking, (await _host.StateAsync()).Rollout!.Status);
    }

    [Fact]
    public async Task A_reader_reads_the_rollout_waves_fleet_and_status()
    {
        using var reader = _host.Client(_host.ReaderToken());
        using var me = JsonDocument.Parse(await reader.GetStringAsync("api/me"));
        Assert.Equal("Rita Reader (22222222-2222-2222-2222-222222222222)", me.RootElement.GetProperty("actor").GetString());
        Assert.False(me.RootElement.GetProperty("canOperate").GetBoolean());

        using var status = JsonDocument.Parse(await reader.GetStringAsync("api/status"));
        Assert.Equal("1", status.RootElement.GetProperty("current").GetString());
        Assert.Equal("2", status.RootElement.GetProperty("inFlight").GetString());
        Assert.Equal("2", status.RootElement.GetProperty("candidate").GetString());
        Assert.Equal("Baking", status.RootElement.GetProperty("rolloutStatus").GetString());
        Assert.Equal(["1", "2"], status.RootElement.GetProperty("builds").EnumerateArray().Select(b => b.GetProperty("build").GetString()));

        using var rollout = JsonDocument.Parse(await reader.GetStringAsync("api/rollout"));
        var record = rollout.RootElement.GetProperty("rollout");
        Assert.True(rollout.RootElement.GetProperty("active").GetBoolean());
        Assert.Equal("Baking", record.GetProperty("status").GetString());
        Assert.Equal(_host.Time.GetUtcNow().AddHours(1), record.GetProperty("bakeUntil").GetDateTimeOffset());
        var waves = record.GetProperty("waves").EnumerateArray().ToList();
        Assert.Equal(["canary", "everyone"], waves.Select(w => w.GetProperty("name").GetString()));
        Assert.Equal("Baking", waves[0].GetProperty("status").GetString());
        Assert.Equal(1, waves[0].GetProperty("updated").GetInt32());
        Assert.Equal("Pending", waves[1].GetProperty("status").GetString());

        using var fleet = JsonDocument.Parse(await reader.GetStringAsync("api/fleet"));
        Assert.Equal(5, fleet.RootElement.GetProperty("total").GetInt32());
        var versions = fleet.RootElement.GetProperty("versions").EnumerateArray()
            .Select(v => (v.GetProperty("version").GetString(), v.GetProperty("connectors").GetInt32(), v.GetProperty("isCurrent").GetBoolean(), v.GetProperty("isTarget").GetBoolean()));
        Assert.Equal([("2", 1, false, true), ("1", 4, true, false)], versions);
        Assert.Equal(0, fleet.RootElement.GetProperty("stragglerCount").GetInt32());

        using var history = JsonDocument.Parse(await reader.GetStringAsync("api/history"));
        Assert.Contains(history.RootElement.EnumerateArray(), h => h.GetProperty("to").GetString() == "1" && h.GetProperty("succeeded").GetBoolean());
        Assert.Equal("[]", await reader.GetStringAsync("api/pins"));
    }

    [Fact]
    public async Task A_reader_acting_is_403_and_nothing_changes()
    {
        using var reader = _host.Client(_host.ReaderToken());
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("api/rollout/pause", new { reason = "reader tries" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("api/builds/2/invalidate", new { reason = "reader tries" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PutAsJsonAsync("api/pins/contoso", new { reason = "reader tries", exclude = true })).StatusCode);
        var state = await _host.StateAsync();
        Assert.Equal(RolloutStatus.Baking, state.Rollout!.Status);
        Assert.DoesNotContain(state.Rollout.Commands, c => c.Action == OperatorAction.Pause);
        Assert.Empty(state.Invalidated);
        Assert.Empty(state.Pins);
    }

    [Fact]
    public async Task An_operators_pause_is_recorded_with_the_tokens_identity_never_the_bodys()
    {
        using var client = _host.Client(_host.OperatorToken());
        var response = await client.PostAsJsonAsync("api/rollout/pause", new { reason = "error rate up on contoso", actor = "mallory@evil.test" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Paused", body.RootElement.GetProperty("rollout").GetProperty("status").GetString());

        var rollout = (await _host.StateAsync()).Rollout!;
        Assert.Equal(RolloutStatus.Paused, rollout.Status);
        Assert.Equal(RolloutStatus.Baking, rollout.PausedFrom);
        var command = rollout.Commands[^1];
        Assert.Equal(OperatorAction.Pause, command.Action);
        Assert.Equal("Olga Operator (11111111-1111-1111-1111-111111111111)", command.Actor);
        Assert.Equal("error rate up on contoso", command.Reason);
        Assert.Equal(_host.Time.GetUtcNow(), command.At);
        Assert.DoesNotContain(rollout.Commands, c => c.Actor.Contains("mallory", StringComparison.Ordinal));

        var logged = Assert.Single(_host.Logs.GetSnapshot(), r => r.Id.Id == 6001);
        Assert.StartsWith("Operator action pause on rollout by Olga Operator (11111111-1111-1111-1111-111111111111) (reason: error rate up on contoso) succeeded: Rollout ", logged.Message, StringComparison.Ordinal);
        Assert.EndsWith("Pause recorded; status Paused.", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_conflict_is_a_409_problem_with_the_engines_message_and_is_logged()
    {
        using var client = _host.Client(_host.OperatorToken());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("api/rollout/pause", new { reason = "first" })).StatusCode);
        var problem = await ProblemAsync(await client.PostAsJsonAsync("api/rollout/pause", new { reason = "second" }), HttpStatusCode.Conflict);
        Assert.Equal("Conflict", problem.GetProperty("title").GetString());
        Assert.Equal("rolloutNotActive", problem.GetProperty("error").GetString());
        Assert.Matches("^Rollout .+ is already paused", problem.GetProperty("detail").GetString());
        var refused = Assert.Single(_host.Logs.GetSnapshot(), r => r.Id.Id == 6002);
        Assert.Contains("pause on rollout by Olga Operator", refused.Message, StringComparison.Ordinal);
        Assert.Contains("409", refused.Message, StringComparison.Ordinal);

        // Resume is a conflict when nothing is paused, promote too once paused from a bake is resumed... each with its message.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("api/rollout/resume", new { })).StatusCode);
        var resume = await ProblemAsync(await client.PostAsJsonAsync("api/rollout/resume", new { }), HttpStatusCode.Conflict);
        Assert.Contains("is not paused; it is Baking", resume.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_build_is_a_404_problem_and_an_unparseable_one_422()
    {
        using var client = _host.Client(_host.OperatorToken());
        var missing = await ProblemAsync(await client.PostAsJsonAsync("api/builds/99/invalidate", new { reason = "bad build" }), HttpStatusCode.NotFound);
        Assert.Equal("Cannot invalidate build 99: it is not in the artifact store.", missing.GetProperty("detail").GetString());
        Assert.Equal("buildNotFound", missing.GetProperty("error").GetString());

        var pin = await ProblemAsync(await client.PutAsJsonAsync("api/pins/contoso", new { reason = "hold", build = "42" }), HttpStatusCode.NotFound);
        Assert.Contains("build 42: it is not in the artifact store", pin.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var connector = await ProblemAsync(await client.PutAsJsonAsync("api/pins/nobody", new { reason = "hold", exclude = true }), HttpStatusCode.NotFound);
        Assert.Contains("'nobody'", connector.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var bad = await ProblemAsync(await client.PostAsJsonAsync("api/builds/01.x/invalidate", new { reason = "bad build" }), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("'01.x' is not a build number", bad.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await _host.StateAsync()).Invalidated);
    }

    [Fact]
    public async Task A_missing_reason_is_422_and_changes_nothing()
    {
        using var client = _host.Client(_host.OperatorToken());
        foreach (var path in new[] { "api/rollout/pause", "api/rollout/abort", "api/builds/2/invalidate", "api/rollback" })
        {
            var problem = await ProblemAsync(await client.PostAsJsonAsync(path, new { reason = "  " }), HttpStatusCode.UnprocessableEntity);
            Assert.StartsWith("A reason is required to ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var state = await _host.StateAsync();
        Assert.Equal(RolloutStatus.Baking, state.Rollout!.Status);
        Assert.False(state.Rollout.AbortRequested);
        Assert.Empty(state.Invalidated);
        Assert.Equal(BuildNumber.Parse("1"), state.Current);
    }

    [Fact]
    public async Task Operator_actions_record_the_token_identity_in_the_state()
    {
        using var client = _host.Client(_host.OperatorToken());
        const string actor = "Olga Operator (11111111-1111-1111-1111-111111111111)";

        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("api/pins/litware", new { reason = "customer freeze", build = "1" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("api/pins/tailspin", new { reason = "decommissioning", exclude = true })).StatusCode);
        var state = await _host.StateAsync();
        Assert.Equal(new ConnectorPin("litware", BuildNumber.Parse("1"), "customer freeze", actor, _host.Time.GetUtcNow()), state.PinOf("litware"));
        Assert.True(state.PinOf("tailspin")!.Excluded);

        using var unpin = JsonDocument.Parse(await (await client.DeleteAsync("api/pins/tailspin")).Content.ReadAsStringAsync());
        Assert.True(unpin.RootElement.GetProperty("changed").GetBoolean());
        Assert.Null((await _host.StateAsync()).PinOf("tailspin"));

        var promote = await client.PostAsJsonAsync("api/rollout/promote", new { reason = "canary looks good" });
        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        Assert.True((await _host.StateAsync()).Rollout!.PromoteRequested);

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("api/rollout/abort", new { reason = "changed our mind" })).StatusCode);
        var aborted = (await _host.StateAsync()).Rollout!;
        Assert.True(aborted.AbortRequested);
        Assert.Equal([OperatorAction.Promote, OperatorAction.Abort], aborted.Commands.Where(c => c.Actor == actor).Select(c => c.Action));

        // Invalidate and reinstate the old build, then roll back the build in flight: every invalidation names the token's identity.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("api/builds/2/invalidate", new { reason = "crashes on start" })).StatusCode);
        var invalidation = Assert.Single((await _host.StateAsync()).Invalidated);
        Assert.Equal((BuildNumber.Parse("2"), "crashes on start", actor), (invalidation.Build, invalidation.Reason, invalidation.Actor));
        using var reinstated = JsonDocument.Parse(await (await client.PostAsJsonAsync("api/builds/2/reinstate", new { reason = "false alarm" })).Content.ReadAsStringAsync());
        Assert.True(reinstated.RootElement.GetProperty("changed").GetBoolean());
        Assert.Empty((await _host.StateAsync()).Invalidated);
    }

    [Fact]
    public async Task An_operator_rolls_back_the_build_in_flight()
    {
        using var client = _host.Client(_host.OperatorToken());
        var response = await client.PostAsJsonAsync("api/rollback", new { reason = "canary unhealthy" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("1", body.RootElement.GetProperty("target").GetString());
        Assert.True(body.RootElement.GetProperty("succeeded").GetBoolean());

        var state = await _host.StateAsync();
        var invalidation = Assert.Single(state.Invalidated);
        Assert.Equal(BuildNumber.Parse("2"), invalidation.Build);
        Assert.Equal("Olga Operator (11111111-1111-1111-1111-111111111111)", invalidation.Actor);
        Assert.Equal(BuildNumber.Parse("1"), state.Current);

        using var reader = _host.Client(_host.ReaderToken());
        using var fleet = JsonDocument.Parse(await reader.GetStringAsync("api/fleet"));
        var only = Assert.Single(fleet.RootElement.GetProperty("versions").EnumerateArray());
        Assert.Equal(("1", 5), (only.GetProperty("version").GetString(), only.GetProperty("connectors").GetInt32()));
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var problem = document.RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
