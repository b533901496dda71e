using System.Net;
using Kfci.Hosting;
using Kfci.Testing.Hosting;

namespace Kfci.Tests.Hosting;

/// <summary>The placeholder functions through the real host: the shape later function tests take.</summary>
public sealed class FunctionTestHostTests
{
    [Fact]
    public async Task Trigger_IncompleteReport_IsRejectedWithoutAnyAdapter()
    {
        await using var host = await FunctionTestHost.StartAsync<Kfci.Functions.Trigger.Function>();

        using var response = await host.PushAsync("""{"job":"kubeflow-presubmit"}""", new Dictionary<string, string> { ["a"] = "b" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("missing field", Assert.Single(host.Rejections.Recorded).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trigger_NonJsonData_IsRejectedAndRecorded()
    {
        await using var host = await FunctionTestHost.StartAsync<Kfci.Functions.Trigger.Function>();

        using var response = await host.PushAsync("not json", messageId: "m-42");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rejection = Assert.Single(host.Rejections.Recorded);
        Assert.Equal("m-42", rejection.Event.Id);
        Assert.Contains("not a valid", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Janitor_BadBodyWithOnlyItsScopeConfigured_IsRejectedWithoutTouchingAnyAdapter()
    {
        // The Janitor refuses to start without a scope (JanitorScopeTests); given one, a bad body never reaches an adapter.
        var config = Path.Combine(Directory.CreateTempSubdirectory("kfci-janitor-").FullName, "janitor.yaml");
        await File.WriteAllTextAsync(config, Janitor.JanitorTestConfig.ScopeYaml);
        string? Env(string name) => name == Kfci.Configuration.KfciEnvironment.JanitorConfig ? config : null;
        await using var host = await FunctionTestHost.StartAsync<Kfci.Functions.Janitor.Function>(configure: builder =>
        {
            Kfci.Configuration.KfciServices.AddKfciAdapters(builder.Services, Env);
            Kfci.Janitor.JanitorServices.AddJanitor(builder.Services, Env);
        });

        using var response = await host.PushAsync("anything");

        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}");
        Assert.Contains("not JSON", Assert.Single(host.Rejections.Recorded).Reason, StringComparison.Ordinal);
    }

    private static async Task AssertAcknowledgesAsync<TFunction>()
        where TFunction : class, IMessagePublishedFunction
    {
        await using var host = await FunctionTestHost.StartAsync<TFunction>();

        using var response = await host.PushAsync("anything");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
