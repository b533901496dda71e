namespace Kfci.Tests.Infra;

/// <summary>
/// The layout rules of <c>terraform fmt</c> (hclwrite's formatter) that this repository relies on,
/// checked without the terraform binary: indentation of two spaces per open bracket line, the
/// <c>=</c> of consecutive single-line attributes aligned one space after the longest name, one
/// space after <c>=</c>, no tabs, no trailing whitespace, a final newline.
/// </summary>
internal static class TerraformFormat
{
    /// <summary>Checks every <c>.tf</c> file under <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> Check(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return Directory.EnumerateFiles(directory, "*.tf", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .SelectMany(f => CheckText(Path.GetRelativePath(directory, f), File.ReadAllText(f)))
            .ToList();
    }

    public static IEnumerable<string> CheckText(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var violations = new List<string>();
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            violations.Add($"{name}: does not end with a newline");
        }

        var lines = text.Split('\n');
        var scanner = new LineScanner();
        var indents = new List<int>();
        var chain = new List<(int Number, string Line, int Indent, int EqualsAt)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var number = i + 1;
            if (line.Contains('\r', StringComparison.Ordinal) || line.Contains('\t', StringComparison.Ordinal))
            {
                violations.Add($"{name}:{number}: contains a tab or carriage return");
            }

            if (line.Length > 0 && char.IsWhiteSpace(line[^1]))
            {
                violations.Add($"{name}:{number}: trailing whitespace");
            }

            var scan = scanner.Scan(line);
            if (scan.Verbatim || line.Trim().Length == 0)
            {
                CloseChain(name, chain, violations);
                continue;
            }

            var expected = Indent(indents, scan.NetBrackets);
            var actual = line.Length - line.TrimStart(' ').Length;
            if (actual != expected)
            {
                violations.Add($"{name}:{number}: indented {actual} spaces, terraform fmt indents it {expected}");
            }

            if (scan.AssignAt > 0)
            {
                chain.Add((number, line, actual, scan.AssignAt));
            }
            else
            {
                CloseChain(name, chain, violations);
            }
        }

        CloseChain(name, chain, violations);
        return violations;
    }

    // hclwrite: a line that opens brackets indents the following lines one level, however many it
    // opens; closing lines pop those levels before being indented themselves.
    private static int Indent(List<int> indents, int netBrackets)
    {
        if (netBrackets > 0)
        {
            var level = indents.Count;
            indents.Add(netBrackets);
            return 2 * level;
        }

        for (var closed = -netBrackets; closed > 0 && indents.Count > 0;)
        {
            var top = indents[^1];
            if (closed >= top)
            {
                closed -= top;
                indents.RemoveAt(indents.Count - 1);
            }
            else
            {
                indents[^1] = top - closed;
                closed = 0;
            }
        }

        return 2 * indents.Count;
    }

    private static void CloseChain(string name, List<(int Number, string Line, int Indent, int EqualsAt)> chain, List<string> violations)
    {
        if (chain.Count == 0)
        {
            return;
        }

        var column = chain.Max(c => c.Indent + c.Line[..c.EqualsAt].Trim().Length) + 1;
        foreach (var (number, line, _, equals) in chain)
        {
            if (equals != column)
            {
                violations.Add($"{name}:{number}: '=' at column {equals + 1}, terraform fmt aligns it at column {column + 1} with the attributes around it");
            }
            else if (equals + 2 > line.Length || line[equals + 1] != ' ' || (equals + 2 < line.Length && line[equals + 2] == ' '))
            {
                violations.Add($"{name}:{number}: terraform fmt puts exactly one space after '='");
            }
        }

        chain.Clear();
    }

    /// <summary>What one line holds, outside strings and comments.</summary>
    private readonly record struct LineScan(int NetBrackets, int AssignAt, bool Verbatim);

    /// <summary>Scans lines in order, carrying block comments and heredocs from one line to the next.</summary>
    private sealed class LineScanner
    {
        private string? _heredocEnd;
        private bool _inBlockComment;

        public LineScan Scan(string line)
        {
            if (_heredocEnd is not null)
            {
                // fmt leaves heredoc bodies and their closing marker as they are.
                if (line.Trim() == _heredocEnd)
                {
                    _heredocEnd = null;
                }

                return new LineScan(0, -1, Verbatim: true);
            }

            if (_inBlockComment)
            {
                var end = line.IndexOf("*/", StringComparison.Ordinal);
                if (end < 0)
                {
                    return new LineScan(0, -1, Verbatim: true);
                }

                _inBlockComment = false;
                line = new string(' ', end + 2) + line[(end + 2)..];
            }

            return ScanCode(line);
        }

        private LineScan ScanCode(string line)
        {
            var net = 0;
            var assignAt = -1;
            var netAtAssign = 0;
            var firstToken = true;
            // Each entry: true = inside a string, false = inside a template interpolation.
            var modes = new Stack<bool>();
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                var next = i + 1 < line.Length ? line[i + 1] : '\0';
                if (modes.Count > 0 && modes.Peek())
                {
                    if (c == '\\')
                    {
                        i++;
                    }
                    else if (c == '"')
                    {
                        modes.Pop();
                    }
                    else if ((c == '$' || c == '%') && next == '{')
                    {
                        modes.Push(false);
                        net++;
                        i++;
                    }

                    continue;
                }

                if (c == ' ')
                {
                    continue;
                }

                if (c == '#' || (c == '/' && next == '/'))
                {
                    break;
                }

                if (c == '/' && next == '*')
                {
                    var end = line.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        _inBlockComment = true;
                        break;
                    }

                    i = end + 1;
                    continue;
                }

                if (c == '<' && next == '<' && modes.Count == 0)
                {
                    _heredocEnd = line[(i + 2)..].TrimStart('-').Trim();
                    break;
                }

                switch (c)
                {
                    case '"':
                        modes.Push(true);
                        break;
                    case '{' or '[' or '(':
                        net++;
                        break;
                    case '}' or ']' or ')':
                        net--;
                        if (c == '}' && modes.Count > 0 && !modes.Peek())
                        {
                            modes.Pop();
                        }

                        break;
                    case '=' when assignAt < 0 && !firstToken && next is not ('=' or '>') && "!<>=".IndexOf(line[i - 1]) < 0:
                        assignAt = i;
                        netAtAssign = net;
                        break;
                }

                firstToken = false;
            }

            // hclwrite aligns only assignments whose value closes on the same line (a heredoc never does).
            var assign = assignAt >= 0 && net - netAtAssign == 0 && _heredocEnd is null ? assignAt : -1;
            return new LineScan(net, assign, Verbatim: false);
        }
    }
}
