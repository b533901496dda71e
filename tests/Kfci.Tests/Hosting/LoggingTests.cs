using System.Text.Json;
using Kfci.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Kfci.Tests.Hosting;

public sealed class LoggingTests
{
    private sealed class Scopes : IExternalScopeProvider
    {
        private readonly List<object?> _scopes = [];

        public void ForEachScope<TState>(Action<object?, TState> callback, TState state)
        {
            foreach (var scope in _scopes)
            {
                callback(scope, state);
            }
        }

        public IDisposable Push(object? state)
        {
            _scopes.Add(state);
            return new Pop(_scopes);
        }

        private sealed class Pop(List<object?> scopes) : IDisposable
        {
            public void Dispose() => scopes.RemoveAt(scopes.Count - 1);
        }
    }

    private static string Format(ConsoleFormatter formatter, LogLevel level, Exception? exception, params object?[] scopes)
    {
        var provider = new Scopes();
        foreach (var scope in scopes)
        {
            provider.Push(scope);
        }

        var state = new FormattedState("Run {RunId} has {Count} steps", ("RunId", "r-1"), ("Count", 3));
        using var writer = new StringWriter();
        formatter.Write(new LogEntry<FormattedState>(level, "Kfci.Test", default, state, exception, (s, _) => s.ToString()), provider, writer);
        return writer.ToString();
    }

    [Fact]
    public void CloudLoggingFormatter_WritesOneJsonLineWithSeverityTraceLabelsAndFields()
    {
        var trace = TraceContext.FromHeaders("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null);
        var line = Format(
            new CloudLoggingFormatter(),
            LogLevel.Warning,
            new InvalidOperationException("boom"),
            new EventLogScope("trigger", "e-1", trace, "my-project"));

        Assert.EndsWith("\n", line, StringComparison.Ordinal);
        Assert.Single(line.TrimEnd('\n').Split('\n'));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("WARNING", root.GetProperty("severity").GetString());
        Assert.Equal("Run r-1 has 3 steps", root.GetProperty("message").GetString());
        Assert.Equal("projects/my-project/traces/0af7651916cd43dd8448eb211c80319c", root.GetProperty("logging.googleapis.com/trace").GetString());
        Assert.Equal("b7ad6b7169203331", root.GetProperty("logging.googleapis.com/spanId").GetString());
        Assert.True(root.GetProperty("logging.googleapis.com/trace_sampled").GetBoolean());
        Assert.Equal("e-1", root.GetProperty("logging.googleapis.com/labels").GetProperty("eventId").GetString());
        Assert.Equal("trigger", root.GetProperty("logging.googleapis.com/labels").GetProperty("function").GetString());
        Assert.Equal(3, root.GetProperty("fields").GetProperty("Count").GetInt32());
        Assert.Contains("boom", root.GetProperty("exception").GetString(), StringComparison.Ordinal);
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("time").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
    }

    [Fact]
    public void CloudLoggingFormatter_NoProject_OmitsTraceFields()
    {
        var trace = TraceContext.FromHeaders("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null);
        var line = Format(new CloudLoggingFormatter(), LogLevel.Information, null, new EventLogScope("trigger", "e-1", trace, null));

        using var json = JsonDocument.Parse(line);
        Assert.Equal("INFO", json.RootElement.GetProperty("severity").GetString());
        Assert.False(json.RootElement.TryGetProperty("logging.googleapis.com/trace", out _));
    }

    [Theory]
    [InlineData(LogLevel.Debug, "DEBUG")]
    [InlineData(LogLevel.Error, "ERROR")]
    [InlineData(LogLevel.Critical, "CRITICAL")]
    public void Severity_MapsLogLevels(LogLevel level, string severity) =>
        Assert.Equal(severity, CloudLoggingFormatter.Severity(level));

    [Fact]
    public void TextLineFormatter_WritesOneReadableLine()
    {
        var line = Format(new TextLineFormatter(), LogLevel.Information, null, new EventLogScope("trigger", "e-1", null, null));

        Assert.Single(line.TrimEnd('\n').Split('\n'));
        Assert.Contains("INFO", line, StringComparison.Ordinal);
        Assert.Contains("[function=trigger eventId=e-1]", line, StringComparison.Ordinal);
        Assert.Contains("Run r-1 has 3 steps", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("105445aa7843bc8bf206b12000100000/1;o=1", "105445aa7843bc8bf206b12000100000", "0000000000000001", true)]
    [InlineData("105445aa7843bc8bf206b12000100000/18446744073709551615", "105445aa7843bc8bf206b12000100000", "ffffffffffffffff", false)]
    [InlineData("105445aa7843bc8bf206b12000100000", "105445aa7843bc8bf206b12000100000", null, false)]
    public void TraceContext_CloudTraceHeader_ConvertsSpanToHex(string header, string traceId, string? spanId, bool sampled) =>
        Assert.Equal(new TraceContext(traceId, spanId, sampled), TraceContext.FromHeaders(null, header));

    [Theory]
    [InlineData("garbage", null)]
    [InlineData("00-xyz-b7ad6b7169203331-01", null)]
    [InlineData("not/a/trace", "also bad")]
    public void TraceContext_MalformedHeaders_AreIgnored(string? traceParent, string? cloudTrace) =>
        Assert.Null(TraceContext.FromHeaders(traceParent, cloudTrace));

    [Fact]
    public void TraceContext_TraceParentWinsOverCloudTraceHeader() =>
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", TraceContext.FromHeaders("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "105445aa7843bc8bf206b12000100000/1")!.TraceId);

    /// <summary>Structured log state as LoggerMessage produces it: the arguments plus the template.</summary>
    private sealed class FormattedState(string template, params (string Key, object? Value)[] values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly List<KeyValuePair<string, object?>> _pairs =
            [.. values.Select(v => new KeyValuePair<string, object?>(v.Key, v.Value)), new("{OriginalFormat}", template)];

        public int Count => _pairs.Count;

        public KeyValuePair<string, object?> this[int index] => _pairs[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _pairs.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() =>
            values.Aggregate(template, (text, v) => text.Replace("{" + v.Key + "}", Convert.ToString(v.Value, System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }
}
