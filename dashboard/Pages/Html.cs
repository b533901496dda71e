using System.Globalization;
using System.Net;
using System.Text;

namespace Kfci.Dashboard.Pages;

/// <summary>
/// Markup helpers. Every value that is not markup kfci wrote goes through <see cref="E"/> (text and attribute values) or
/// <see cref="Q"/> (URL components): test names and messages come from junit files a pull request controls.
/// </summary>
internal static class Html
{
    /// <summary>Text or a quoted attribute value, HTML-escaped (&amp; &lt; &gt; &quot; &#39;).</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A URL path segment or query value.</summary>
    public static string Q(string? text) => Uri.EscapeDataString(text ?? "");

    /// <summary>An external link's address when it is http(s); anything else (<c>javascript:</c>, <c>data:</c>) becomes null.</summary>
    public static string? SafeUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) ? uri.AbsoluteUri : null;

    public static string Link(string href, string text) => $"<a href=\"{E(href)}\">{E(text)}</a>";

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? $"<time datetime=\"{t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\">{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}</time>" : "–";

    public static string Duration(TimeSpan? span) => span switch
    {
        null => "–",
        { TotalHours: >= 1 } s => string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalHours}h{s.Minutes:D2}m"),
        { TotalMinutes: >= 1 } s => string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalMinutes}m{s.Seconds:D2}s"),
        { } s => string.Create(CultureInfo.InvariantCulture, $"{s.TotalSeconds:0.#}s"),
    };

    public static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:0.#}%");

    public static string Short(string? commit) => commit is { Length: > 7 } c ? c[..7] : commit ?? "";

    /// <summary>A whole page: the layout, navigation and <paramref name="body"/>; <paramref name="live"/> makes the script refresh <c>#live</c>.</summary>
    public static string Page(string title, string body, bool live = false)
    {
        var page = new StringBuilder(body.Length + 1024);
        page.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" · kfci</title>")
            .Append("<link rel=\"stylesheet\" href=\"/assets/dashboard.css\"><script src=\"/assets/dashboard.js\" defer></script></head><body>")
            .Append("<nav><a class=\"brand\" href=\"/\">kfci</a><a href=\"/\">Runs</a><a href=\"/flaky\">Flakiness</a><a href=\"/janitor\">Janitor</a></nav>")
            .Append("<main>").Append("<h1>").Append(E(title)).Append("</h1>")
            .Append(live ? "<div id=\"live\" data-live=\"5\">" : "<div id=\"live\">")
            .Append(body)
            .Append("</div></main></body></html>");
        return page.ToString();
    }
}
