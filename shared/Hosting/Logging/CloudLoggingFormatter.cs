using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Kfci.Hosting.Logging;

/// <summary>
/// Writes each entry as one JSON line that Cloud Logging parses into a structured entry: <c>severity</c>,
/// <c>message</c>, <c>time</c>, trace fields from the scope, scope values as <c>logging.googleapis.com/labels</c>,
/// template arguments under <c>fields</c>, and the exception text under <c>exception</c> (which Error Reporting reads).
/// </summary>
public sealed class CloudLoggingFormatter : ConsoleFormatter
{
    public const string FormatterName = "kfci-json";

    private const string LabelsKey = "logging.googleapis.com/labels";
    private const string GooglePrefix = "logging.googleapis.com/";

    // Log lines are never embedded in HTML, so keep quotes and '+' readable instead of \u0022 escapes.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly TimeProvider _clock;

    public CloudLoggingFormatter()
        : this(TimeProvider.System)
    {
    }

    public CloudLoggingFormatter(TimeProvider clock)
        : base(FormatterName)
    {
        _clock = clock;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            json.WriteStartObject();
            json.WriteString("severity", Severity(logEntry.LogLevel));
            json.WriteString("message", message ?? string.Empty);
            json.WriteString("time", _clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("category", logEntry.Category);
            if (logEntry.Exception is not null)
            {
                json.WriteString("exception", logEntry.Exception.ToString());
            }

            WriteScopes(json, scopeProvider);
            WriteFields(json, logEntry.State);
            json.WriteEndObject();
        }

        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write('\n');
    }

    /// <summary>Cloud Logging's LogSeverity names for .NET log levels.</summary>
    public static string Severity(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRITICAL",
        _ => "DEFAULT",
    };

    private static void WriteScopes(Utf8JsonWriter json, IExternalScopeProvider? scopeProvider)
    {
        if (scopeProvider is null)
        {
            return;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var special = new Dictionary<string, object?>(StringComparer.Ordinal);
        scopeProvider.ForEachScope(
            static (scope, state) =>
            {
                // ASP.NET Core's own scopes (connection and request ids) repeat what Cloud Run's request log already holds.
                if (scope is not IEnumerable<KeyValuePair<string, object?>> pairs || IsFrameworkScope(scope))
                {
                    return;
                }

                foreach (var (key, value) in pairs)
                {
                    if (key.StartsWith(GooglePrefix, StringComparison.Ordinal))
                    {
                        state.special[key] = value;
                    }
                    else if (key != "{OriginalFormat}")
                    {
                        state.labels[key] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
                    }
                }
            },
            (labels, special));

        foreach (var (key, value) in special)
        {
            if (value is bool flag)
            {
                json.WriteBoolean(key, flag);
            }
            else
            {
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
            }
        }

        if (labels.Count > 0)
        {
            json.WriteStartObject(LabelsKey);
            foreach (var (key, value) in labels)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        }
    }

    private static bool IsFrameworkScope(object scope) =>
        scope.GetType().Namespace?.StartsWith("Microsoft.", StringComparison.Ordinal) == true;

    private static void WriteFields<TState>(Utf8JsonWriter json, TState state)
    {
        if (state is not IReadOnlyList<KeyValuePair<string, object?>> { Count: > 1 } pairs)
        {
            return;
        }

        json.WriteStartObject("fields");
        foreach (var (key, value) in pairs)
        {
            if (key == "{OriginalFormat}")
            {
                continue;
            }

            switch (value)
            {
                case null:
                    json.WriteNull(key);
                    break;
                case bool flag:
                    json.WriteBoolean(key, flag);
                    break;
                case int or long or double or decimal or float:
                    json.WriteNumber(key, Convert.ToDecimal(value, CultureInfo.InvariantCulture));
                    break;
                default:
                    json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }

        json.WriteEndObject();
    }
}

/// <summary>One readable line per entry for a terminal: time, level, category, scope, message (exception below it).</summary>
public sealed class TextLineFormatter : ConsoleFormatter
{
    public const string FormatterName = "kfci-text";

    public TextLineFormatter()
        : base(FormatterName)
    {
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var scopes = new List<string>();
        scopeProvider?.ForEachScope(static (scope, list) => list.Add(scope?.ToString() ?? string.Empty), scopes);
        textWriter.Write(DateTimeOffset.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
        textWriter.Write(' ');
        textWriter.Write(CloudLoggingFormatter.Severity(logEntry.LogLevel).PadRight(8));
        textWriter.Write(ShortCategory(logEntry.Category));
        if (scopes.Count > 0)
        {
            textWriter.Write(" [");
            textWriter.Write(string.Join(' ', scopes));
            textWriter.Write(']');
        }

        textWriter.Write(": ");
        textWriter.Write(message?.ReplaceLineEndings(" "));
        textWriter.Write('\n');
        if (logEntry.Exception is not null)
        {
            // A person at a terminal wants the whole stack trace.
            textWriter.Write(logEntry.Exception.ToString());
            textWriter.Write('\n');
        }
    }

    private static string ShortCategory(string category) => category[(category.LastIndexOf('.') + 1)..];
}
