using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kfci.Janitor;

/// <summary>The janitor's JSON documents: indented, and readable by people (quotes and non-ASCII left unescaped in reasons and names).</summary>
internal static class JsonText
{
    private static readonly JsonWriterOptions s_options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <c>{"<paramref name="arrayName"/>":[…]}</c>, one element per item.</summary>
    public static string WriteArrayDocument<T>(string arrayName, IEnumerable<T> items, Action<Utf8JsonWriter, T> writeItem)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartObject();
            writer.WriteStartArray(arrayName);
            foreach (var item in items)
            {
                writeItem(writer, item);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
