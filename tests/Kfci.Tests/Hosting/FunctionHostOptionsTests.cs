using System.Net;
using Kfci.Hosting;
using Kfci.PubSub;

namespace Kfci.Tests.Hosting;

public sealed class FunctionHostOptionsTests
{
    private static FunctionHostOptions Read(string[] args, Dictionary<string, string> environment, bool terminal = false) =>
        FunctionHostOptions.Read(args, name => environment.GetValueOrDefault(name), terminal);

    [Fact]
    public void Read_Defaults_Port8080LoopbackJsonPushEnvelopeLimit()
    {
        var options = Read([], []);

        Assert.Equal(8080, options.Port);
        Assert.Equal(IPAddress.Loopback, options.BindAddress);
        Assert.Equal(LogFormat.Json, options.LogFormat);
        Assert.Equal(PubSubLimits.MaxPushBodyBytes, options.MaxRequestBytes);
        Assert.False(options.OnCloudRun);
        Assert.Null(options.Target);
        Assert.Null(options.PushAudience);
    }

    [Fact]
    public void Read_OnCloudRun_BindsAllInterfaces() =>
        Assert.Equal(IPAddress.Any, Read([], new() { ["K_SERVICE"] = "trigger" }).BindAddress);

    [Fact]
    public void Read_KServiceSet_IsOnCloudRun() =>
        Assert.True(Read([], new() { ["K_SERVICE"] = "kfci-trigger" }).OnCloudRun);

    [Theory]
    [InlineData(null, null, "KFCI_PUSH_AUDIENCE and KFCI_PUSH_SERVICE_ACCOUNT are not set")]
    [InlineData(null, "pusher@p.iam.gserviceaccount.com", "KFCI_PUSH_AUDIENCE is not set")]
    [InlineData("https://kfci-trigger-123.europe-west1.run.app", null, "KFCI_PUSH_SERVICE_ACCOUNT is not set")]
    public void Validate_OnCloudRunWithoutPushAuthentication_RefusesNamingWhatToSet(string? audience, string? account, string expected)
    {
        var options = new FunctionHostOptions { OnCloudRun = true, PushAudience = audience, PushServiceAccount = account };

        var error = Assert.Throws<FunctionHostConfigurationException>(options.Validate);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Validate_OffCloudRunWithoutPushAuthentication_IsAllowed() => new FunctionHostOptions().Validate();

    [Fact]
    public void CreateBuilder_OnCloudRunWithoutAudience_BuildFailsInsteadOfServingOpen()
    {
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { OnCloudRun = true, Port = 0, PushServiceAccount = "pusher@p.iam.gserviceaccount.com" });
        builder.AddFunction<ScriptedFunction>("f");

        var error = Assert.Throws<FunctionHostConfigurationException>(() => builder.Build());

        Assert.Contains("KFCI_PUSH_AUDIENCE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FlagsOverrideEnvironment()
    {
        var options = Read(["--target", "b", "--port=9000"], new() { ["FUNCTION_TARGET"] = "a", ["PORT"] = "8081" });

        Assert.Equal("b", options.Target);
        Assert.Equal(9000, options.Port);
    }

    [Fact]
    public void Read_EnvironmentSettings_AreApplied()
    {
        var options = Read([], new()
        {
            ["FUNCTION_TARGET"] = "a",
            ["PORT"] = "0",
            ["KFCI_BIND_ADDRESS"] = "0.0.0.0",
            ["KFCI_MAX_REQUEST_BYTES"] = "1000",
            ["KFCI_PUSH_AUDIENCE"] = "aud",
            ["KFCI_PUSH_SERVICE_ACCOUNT"] = "sa@p.iam.gserviceaccount.com",
            ["KFCI_LOG_FORMAT"] = "TEXT",
            ["GOOGLE_CLOUD_PROJECT"] = "gp",
        });

        Assert.Equal(new FunctionHostOptions
        {
            Target = "a",
            Port = 0,
            BindAddress = IPAddress.Any,
            MaxRequestBytes = 1000,
            PushAudience = "aud",
            PushServiceAccount = "sa@p.iam.gserviceaccount.com",
            LogFormat = LogFormat.Text,
            Project = "gp",
        }, options);
    }

    [Fact]
    public void Read_LoneArgument_IsTheTarget() => Assert.Equal("janitor", Read(["janitor"], []).Target);

    [Fact]
    public void Read_TerminalWithoutLogFormat_WritesText() => Assert.Equal(LogFormat.Text, Read([], [], terminal: true).LogFormat);

    [Theory]
    [InlineData("PORT", "http")]
    [InlineData("PORT", "70000")]
    [InlineData("KFCI_BIND_ADDRESS", "everywhere")]
    [InlineData("KFCI_MAX_REQUEST_BYTES", "-1")]
    [InlineData("KFCI_LOG_FORMAT", "xml")]
    public void Read_BadValue_ThrowsNamingTheVariable(string variable, string value)
    {
        var error = Assert.Throws<FunctionHostConfigurationException>(() => Read([], new() { [variable] = value }));

        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown flag --verbose", "--verbose", "x")]
    [InlineData("unknown flag --verbose", "--verbose")]
    [InlineData("needs a value", "--port")]
    [InlineData("unexpected arguments", "a", "b")]
    public void Read_BadArguments_ThrowSayingWhy(string expected, params string[] args) =>
        Assert.Contains(expected, Assert.Throws<FunctionHostConfigurationException>(() => Read(args, [])).Message, StringComparison.Ordinal);
}
