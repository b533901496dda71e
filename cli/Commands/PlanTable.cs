using System.Text;
using Kfci.Janitor;

namespace Kfci.Cli.Commands;

/// <summary>A plan as aligned plain-text columns, deletes easy to spot, with a one-line summary.</summary>
internal static class PlanTable
{
    private static readonly string[] s_headers = ["ACTION", "RULE", "TYPE", "LOCATION", "NAME", "REASON"];

    public static string Format(IReadOnlyList<JanitorDecision> decisions)
    {
        var rows = decisions.Select(decision => new[]
        {
            PlanJson.ActionName(decision.Action).ToUpperInvariant(), decision.Rule, decision.Resource.Type.WireName(),
            decision.Resource.Location, decision.Resource.Name, decision.Reason,
        }).ToList();
        var widths = s_headers.Select((header, column) => rows.Select(row => row[column].Length).Append(header.Length).Max()).ToArray();

        var text = new StringBuilder();
        foreach (var row in rows.Prepend(s_headers))
        {
            // The reason is last and unpadded, so long reasons do not widen every line.
            text.AppendJoin("  ", row.Select((cell, column) => column == row.Length - 1 ? cell : cell.PadRight(widths[column])));
            text.Append('\n');
        }

        var deletes = decisions.Count(decision => decision.Action == JanitorAction.Delete);
        text.Append($"{decisions.Count} resources: {deletes} to delete, {decisions.Count - deletes} to keep");
        return text.ToString();
    }
}
