using System.Text.Json;

namespace Kfci.Janitor;

/// <summary>The plan's wire format: <c>{"decisions":[{"type","name","location","action","rule","reason"}]}</c>.</summary>
public static class PlanJson
{
    /// <summary>Writes decisions in the given order, indented, with <c>action</c> as <c>delete</c> or <c>keep</c>.</summary>
    public static string Write(IEnumerable<JanitorDecision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        return JsonText.WriteArrayDocument("decisions", decisions, WriteDecision);
    }

    private static void WriteDecision(Utf8JsonWriter writer, JanitorDecision decision)
    {
        writer.WriteStartObject();
        writer.WriteString("type", decision.Resource.Type.WireName());
        writer.WriteString("name", decision.Resource.Name);
        writer.WriteString("location", decision.Resource.Location);
        writer.WriteString("action", ActionName(decision.Action));
        writer.WriteString("rule", decision.Rule);
        writer.WriteString("reason", decision.Reason);
        writer.WriteEndObject();
    }

    /// <summary>The wire spelling of an action.</summary>
    public static string ActionName(JanitorAction action) => action == JanitorAction.Delete ? "delete" : "keep";
}
