using System.Net;
using Kfci.Hosting;

namespace Kfci.Tests.Hosting;

public sealed class FunctionHostOptionsTests
{
    private static FunctionHostOptions Read(string[] args, Dictionary<string, string> environment, bool terminal = false) =>
        FunctionHostOptions.Read(args, name => environment.GetValueOrDefault(name), terminal);

    [Fact]
    public void Read_Defaults_Port8080LoopbackJson10MiB()
    {
        var options = Read([], []);

        Assert.Equal(8080, options.Port);
        Assert.Equal(IPAddress.Loopback, options.BindAddress);
        Assert.Equal(LogFormat.Json, options.LogFormat);
        Assert.Equal(10 * 1024 * 1024, options.MaxRequestBytes);
        Assert.Null(options.Target);
        Assert.Null(options.PushAudience);
    }

    [Fact]
    public void Read_OnCloudRun_BindsAllInterfaces() =>
        Assert.Equal(IPAddress.Any, Read([], new() { ["K_SERVICE"] = "trigger" }).BindAddress);

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
