using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IoMT.Deployment.Loopback;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>The loopback host's own contract, checked with a plain HttpClient.</summary>
[Collection(AppServiceHostCollection.Name)]
public sealed class LoopbackHostTests(AppServiceHostFixture fixture)
{
    private AppServiceHost Host => fixture.Host;

    private HttpRequestMessage Request(HttpMethod method, string url, string? audience = "https://management.azure.com", string? json = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (audience is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestJwt.Create(audience, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1)));
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    [Fact]
    public async Task Every_route_needs_a_bearer_token_and_the_scm_site_only_takes_its_audience()
    {
        var app = Host.AddApp(Guid.NewGuid().ToString(), "rg", "host-" + Guid.NewGuid().ToString("N")[..10]);
        using var client = Host.CreateHttpClient();
        var site = $"{Host.ArmEndpoint}{app.ResourceId.TrimStart('/')}?api-version=2024-04-01";

        using var anonymous = await client.SendAsync(Request(HttpMethod.Get, site, audience: null));
        using var arm = await client.SendAsync(Request(HttpMethod.Get, site));
        using var status = await client.SendAsync(Request(HttpMethod.Get, $"{app.ScmUri}api/deployments/latest"));
        using var scm = await client.SendAsync(Request(HttpMethod.Get, $"{app.ScmUri}api/deployments/latest", "https://management.core.windows.net/"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, arm.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, scm.StatusCode);
        using var body = JsonDocument.Parse(await arm.Content.ReadAsStringAsync());
        var states = body.RootElement.GetProperty("properties").GetProperty("hostNameSslStates").EnumerateArray().ToList();
        Assert.Equal(app.ScmHostName, states.Single(s => s.GetProperty("hostType").GetString() == "Repository").GetProperty("name").GetString());
    }

    [Fact]
    public async Task The_settings_put_replaces_every_setting_and_needs_an_api_version()
    {
        var app = Host.AddApp(Guid.NewGuid().ToString(), "rg", "host-" + Guid.NewGuid().ToString("N")[..10], settings: new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" });
        using var client = Host.CreateHttpClient();
        var settings = $"{Host.ArmEndpoint}{app.ResourceId.TrimStart('/')}/config/appsettings";

        using var noVersion = await client.SendAsync(Request(HttpMethod.Put, settings, json: "{\"properties\":{\"C\":\"3\"}}"));
        using var put = await client.SendAsync(Request(HttpMethod.Put, settings + "?api-version=2024-04-01", json: "{\"properties\":{\"C\":\"3\"}}"));

        Assert.Equal(HttpStatusCode.BadRequest, noVersion.StatusCode);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(new Dictionary<string, string> { ["C"] = "3" }, app.Settings);
    }
}
