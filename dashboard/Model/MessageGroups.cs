using System.Text;

namespace Kfci.Dashboard.Model;

/// <summary>Failure messages grouped by similarity: the same text once numbers, hex ids and spacing are set aside.</summary>
public static class MessageGroups
{
    private const int KeyChars = 160;

    /// <summary>Groups, largest first; each with its size and one message as it was.</summary>
    public static IReadOnlyList<(string Example, int Count)> Group(IEnumerable<string> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return [.. messages.GroupBy(Shape, StringComparer.Ordinal)
            .Select(g => (Example: g.First(), Count: g.Count()))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Example, StringComparer.Ordinal)];
    }

    /// <summary>
    /// A message's shape: digit and hex runs (timestamps, pod suffixes, addresses, durations) become '#', runs of
    /// whitespace one space; cut to a prefix, since the tail of a long message is usually the variable part.
    /// </summary>
    public static string Shape(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var shape = new StringBuilder(Math.Min(message.Length, KeyChars));
        var i = 0;
        while (i < message.Length && shape.Length < KeyChars)
        {
            var c = message[i];
            if (char.IsAsciiDigit(c) || (char.IsAsciiHexDigit(c) && IsHexRun(message, i)))
            {
                while (i < message.Length && char.IsAsciiHexDigit(message[i]))
                {
                    i++;
                }

                shape.Append('#');
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                while (i < message.Length && char.IsWhiteSpace(message[i]))
                {
                    i++;
                }

                shape.Append(' ');
                continue;
            }

            shape.Append(c);
            i++;
        }

        return shape.ToString().Trim();
    }

    /// <summary>Hex letters count as an id only in a run of six or more hex characters holding a digit (not "cafe", "added").</summary>
    private static bool IsHexRun(string text, int start)
    {
        var end = start;
        var digit = false;
        while (end < text.Length && char.IsAsciiHexDigit(text[end]))
        {
            digit |= char.IsAsciiDigit(text[end]);
            end++;
        }

        return end - start >= 6 && digit;
    }
}
