using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Kfci.Functions.Uploader;

/// <summary>
/// A Kubernetes object (JSON) as YAML, the way <c>kubectl get -o yaml</c> and the old tool's <c>&lt;workflow&gt;.yaml</c>
/// show it. Strings that YAML would read as another type (<c>"true"</c>, <c>"1"</c>, <c>""</c>) are quoted, so the YAML
/// parses back to the same JSON.
/// </summary>
public static class YamlText
{
    public static void Write(TextWriter output, JsonNode? node)
    {
        ArgumentNullException.ThrowIfNull(output);
        var emitter = new Emitter(output);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart());
                foreach (var (key, value) in obj)
                {
                    EmitString(emitter, key);
                    Emit(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, false, SequenceStyle.Any));
                foreach (var item in array)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                EmitString(emitter, value.GetValue<string>());
                break;
            case JsonValue value:
                emitter.Emit(new Scalar(null, null, value.ToJsonString(), ScalarStyle.Plain, true, false));
                break;
            default:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
        }
    }

    private static void EmitString(IEmitter emitter, string text)
    {
        var style = LooksTyped(text) ? ScalarStyle.DoubleQuoted : text.Contains('\n', StringComparison.Ordinal) ? ScalarStyle.Literal : ScalarStyle.Any;
        emitter.Emit(new Scalar(null, null, text, style, true, true));
    }

    // YAML 1.1/1.2 core-schema plain scalars that are not strings.
    private static bool LooksTyped(string text) =>
        text.Length == 0
        || text is "~" or "null" or "Null" or "NULL" or "true" or "True" or "TRUE" or "false" or "False" or "FALSE"
            or "yes" or "Yes" or "YES" or "no" or "No" or "NO" or "on" or "On" or "ON" or "off" or "Off" or "OFF" or "y" or "n" or "Y" or "N"
        || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
        || text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.StartsWith("0o", StringComparison.OrdinalIgnoreCase)
        || text is ".inf" or ".Inf" or "-.inf" or ".nan" or ".NaN";
}
