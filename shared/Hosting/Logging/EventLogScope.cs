using System.Collections;

namespace Kfci.Hosting.Logging;

/// <summary>
/// The logging scope of one request: function, event id and trace. The JSON formatter lifts the
/// <c>logging.googleapis.com/*</c> entries to the top of the line and puts the rest in its labels.
/// </summary>
public sealed class EventLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string TraceKey = "logging.googleapis.com/trace";
    public const string SpanIdKey = "logging.googleapis.com/spanId";
    public const string TraceSampledKey = "logging.googleapis.com/trace_sampled";

    private readonly List<KeyValuePair<string, object?>> _entries = [];

    public EventLogScope(string function, string? eventId, TraceContext? trace, string? project)
    {
        _entries.Add(new("function", function));
        if (eventId is not null)
        {
            _entries.Add(new("eventId", eventId));
        }

        // Cloud Logging only links a trace id that names its project.
        if (trace is not null && project is not null)
        {
            _entries.Add(new(TraceKey, $"projects/{project}/traces/{trace.TraceId}"));
            if (trace.SpanId is not null)
            {
                _entries.Add(new(SpanIdKey, trace.SpanId));
            }

            _entries.Add(new(TraceSampledKey, trace.Sampled));
        }
    }

    public int Count => _entries.Count;

    public KeyValuePair<string, object?> this[int index] => _entries[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        string.Join(' ', _entries.Where(e => !e.Key.StartsWith("logging.googleapis.com/", StringComparison.Ordinal)).Select(e => $"{e.Key}={e.Value}"));
}
