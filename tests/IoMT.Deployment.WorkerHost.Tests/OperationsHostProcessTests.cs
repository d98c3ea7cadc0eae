using System.Net.Http.Headers;
using System.Text.Json;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.ProcessTests;

/// <summary>
/// samples/OperationsHost as the README runs it: <c>--seed</c> followed by <c>--urls</c> (the switch once swallowed the
/// next argument as its value, so the host listened elsewhere), Development tokens, the local provider.
/// </summary>
public sealed class OperationsHostProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Seeded_with_urls_after_the_seed_switch_it_listens_there_and_shows_a_reader_the_seeded_fleet()
    {
        var folder = Directory.CreateTempSubdirectory("iomt-operations-host-").FullName;
        try
        {
            var url = $"http://127.0.0.1:{FreePort.Next()}";
            var environment = new Dictionary<string, string?>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["OperationsHost__Root"] = Path.Combine(folder, "root"),
            };

            // The content root (appsettings*.json) is the working directory: the sample's output folder.
            await using var host = new RunningProcess(Built.Start(Built.OperationsHost, Path.GetDirectoryName(Built.OperationsHost)!, environment, "--seed", "--urls", url));
            var listening = await host.WaitForLineAsync(l => l.Contains("Now listening on: ", StringComparison.Ordinal), Patience);
            Assert.EndsWith("Now listening on: " + url, listening.TrimEnd(), StringComparison.Ordinal);

            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = Patience };
            using var token = JsonDocument.Parse(await http.GetStringAsync(new Uri("/dev/token?role=reader&name=Rita", UriKind.Relative)));
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.RootElement.GetProperty("accessToken").GetString());

            using var me = JsonDocument.Parse(await http.GetStringAsync(new Uri("/operations/api/me", UriKind.Relative)));
            Assert.Contains("Rita", me.RootElement.GetRawText(), StringComparison.Ordinal);
            using var fleet = JsonDocument.Parse(await http.GetStringAsync(new Uri("/operations/api/fleet", UriKind.Relative)));
            Assert.Equal(6, fleet.RootElement.GetProperty("total").GetInt32());
            using var refused = await http.PostAsync(new Uri("/operations/api/rollout/pause", UriKind.Relative), new StringContent("{\"reason\":\"a reader tries\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
