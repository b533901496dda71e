using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kfci.Testing.Kubernetes;

/// <summary>The API server's name rules (k8s.io/apimachinery validation), with its exact messages.</summary>
internal static partial class ObjectNames
{
    private const int MaxSubdomainLength = 253;
    private const int MaxLabelLength = 63;
    private const int GeneratedSuffixLength = 5;
    private const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>
    /// Names of most objects are DNS-1123 subdomains; namespaces are DNS-1123 labels. Throws 422 Invalid with
    /// a <c>FieldValueInvalid</c> cause, as the server does.
    /// </summary>
    public static void Validate(FakeResource resource, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw Invalid(resource, name ?? "", "metadata.name", "Required value: name or generateName is required", "FieldValueRequired");
        }

        var isLabel = resource == FakeResource.Namespaces;
        var max = isLabel ? MaxLabelLength : MaxSubdomainLength;
        if (name.Length > max)
        {
            throw Invalid(resource, name, "metadata.name", $"Invalid value: \"{name}\": must be no more than {max} characters", "FieldValueInvalid");
        }

        if (!(isLabel ? Label() : Subdomain()).IsMatch(name))
        {
            var what = isLabel ? "RFC 1123 label" : "RFC 1123 subdomain";
            var detail = isLabel
                ? "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
                : "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
            throw Invalid(resource, name, "metadata.name", $"Invalid value: \"{name}\": a lowercase {what} {detail}", "FieldValueInvalid");
        }
    }

    /// <summary><c>generateName</c>: the base cut to leave room for five random characters (storage/names).</summary>
    public static string Generate(string generateName)
    {
        var prefix = generateName.Length > MaxLabelLength - GeneratedSuffixLength ? generateName[..(MaxLabelLength - GeneratedSuffixLength)] : generateName;
        var suffix = new char[GeneratedSuffixLength];
        for (var i = 0; i < suffix.Length; i++)
        {
            suffix[i] = SuffixAlphabet[Random.Shared.Next(SuffixAlphabet.Length)];
        }

        return prefix + new string(suffix);
    }

    private static FakeStatusException Invalid(FakeResource resource, string name, string field, string problem, string causeReason)
    {
        var message = $"{resource.Kind}{(resource.Group.Length == 0 ? "" : "." + resource.Group)} \"{name}\" is invalid: {field}: {problem}";
        var details = FakeStatusException.Details(resource, name);
        details["kind"] = resource.Kind;
        details["causes"] = new JsonArray(new JsonObject { ["reason"] = causeReason, ["message"] = problem, ["field"] = field });
        return new FakeStatusException(422, "Invalid", message, details);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Label();
}
