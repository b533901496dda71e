using System.Text.Json.Nodes;
using Kfci.Firestore;

namespace Kfci.Tests.Firestore;

public sealed class FirestoreValuesTests
{
    [Theory]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    [InlineData(0L, "0")]
    public void Encode_Int64Extremes_WrittenAsStringsAndReadBackExactly(long value, string wire)
    {
        var json = FirestoreValues.Encode(value);
        Assert.Equal(wire, json["integerValue"]!.GetValue<string>());
        Assert.Equal(value, FirestoreValues.Decode(Reparse(json)));
    }

    [Fact]
    public void Encode_SmallIntegerTypes_BecomeInt64()
    {
        Assert.Equal(7L, RoundTrip(7));
        Assert.Equal(7L, RoundTrip((byte)7));
        Assert.Equal(4_000_000_000L, RoundTrip(4_000_000_000u));
        Assert.Throws<ArgumentException>(() => FirestoreValues.Encode(ulong.MaxValue));
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Encode_NonFiniteDouble_SpelledAsProto3String(double value, string wire)
    {
        var json = FirestoreValues.Encode(value);
        Assert.Equal(wire, json["doubleValue"]!.GetValue<string>());
        Assert.Equal(value, (double)FirestoreValues.Decode(Reparse(json))!);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(-1e300)]
    [InlineData(double.Epsilon)]
    [InlineData(2.0)]
    public void Encode_FiniteDouble_RoundTripsExactly(double value) =>
        Assert.Equal(value, RoundTrip(value));

    [Fact]
    public void Encode_ScalarsOfEveryKind_RoundTrip()
    {
        Assert.Null(RoundTrip(null));
        Assert.Equal(true, RoundTrip(true));
        Assert.Equal("héllo wörld ✓ 日本 🚀", RoundTrip("héllo wörld ✓ 日本 🚀"));
        Assert.Equal(string.Empty, RoundTrip(string.Empty));
        Assert.Equal(new byte[] { 0, 255, 1, 254 }, RoundTrip(new byte[] { 0, 255, 1, 254 }));
        Assert.Equal(new DocumentReference("projects/p/databases/(default)/documents/a/b"), RoundTrip(new DocumentReference("projects/p/databases/(default)/documents/a/b")));
        Assert.Equal(new GeoPoint(-33.5, 151.25), RoundTrip(new GeoPoint(-33.5, 151.25)));
    }

    [Fact]
    public void Decode_NullValueAsJsonNull_IsNull() =>
        Assert.Null(FirestoreValues.Decode(JsonNode.Parse("""{"nullValue": null}""")));

    [Fact]
    public void Decode_UrlSafeUnpaddedBytes_Accepted() =>
        Assert.Equal(new byte[] { 0xfb, 0xff }, FirestoreValues.Decode(JsonNode.Parse("""{"bytesValue": "-_8"}""")));

    [Fact]
    public void Decode_GeoPointAtOrigin_OmittedZeroesRead() =>
        Assert.Equal(new GeoPoint(0, 0), FirestoreValues.Decode(JsonNode.Parse("""{"geoPointValue": {}}""")));

    [Fact]
    public void Encode_NestedMapsAndArrays_RoundTrip()
    {
        var value = new Dictionary<string, object?>
        {
            ["list"] = new object?[] { 1L, "two", null, new Dictionary<string, object?> { ["deep"] = new List<object?> { 3.5 } } },
            ["empty"] = new Dictionary<string, object?>(),
            ["emptyList"] = Array.Empty<object?>(),
            ["strings"] = new Dictionary<string, string> { ["k"] = "v" },
        };

        var decoded = (IReadOnlyDictionary<string, object?>)RoundTrip(value)!;

        var list = (IReadOnlyList<object?>)decoded["list"]!;
        Assert.Equal([1L, "two", null], list.Take(3));
        Assert.Equal(3.5, ((IReadOnlyList<object?>)((IReadOnlyDictionary<string, object?>)list[3]!)["deep"]!)[0]);
        Assert.Empty((IReadOnlyDictionary<string, object?>)decoded["empty"]!);
        Assert.Empty((IReadOnlyList<object?>)decoded["emptyList"]!);
        Assert.Equal("v", ((IReadOnlyDictionary<string, object?>)decoded["strings"]!)["k"]);
    }

    [Fact]
    public void Decode_EmptyMapWithoutFields_IsEmptyDictionary() =>
        Assert.Empty((IReadOnlyDictionary<string, object?>)FirestoreValues.Decode(JsonNode.Parse("""{"mapValue": {}}"""))!);

    [Fact]
    public void Encode_Timestamps_UtcWithFraction()
    {
        var local = new DateTimeOffset(2024, 2, 29, 23, 30, 0, TimeSpan.FromHours(-5)).AddTicks(1234567);
        var json = FirestoreValues.Encode(local);
        Assert.Equal("2024-03-01T04:30:00.123456700Z", json["timestampValue"]!.GetValue<string>());
        Assert.Equal(local, RoundTrip(local));
        Assert.Equal(TimeSpan.Zero, ((DateTimeOffset)RoundTrip(local)!).Offset);
        Assert.Equal(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), RoundTrip(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        Assert.Throws<ArgumentException>(() => FirestoreValues.Encode(new DateTime(2000, 1, 1)));
    }

    [Theory]
    [InlineData("2024-01-02T03:04:05.123456789Z", 123456789, "2024-01-02T03:04:05.123456789Z")]
    [InlineData("2024-01-02T03:04:05.1Z", 100000000, "2024-01-02T03:04:05.100Z")]
    [InlineData("2024-01-02T03:04:05.000001Z", 1000, "2024-01-02T03:04:05.000001Z")]
    [InlineData("2024-01-02T03:04:05Z", 0, "2024-01-02T03:04:05Z")]
    [InlineData("2024-01-02T05:04:05.5+02:00", 500000000, "2024-01-02T03:04:05.500Z")]
    [InlineData("1969-12-31T23:59:59.999999999Z", 999999999, "1969-12-31T23:59:59.999999999Z")]
    public void Parse_Rfc3339_KeepsNanosAndFormatsUtc(string text, int nanos, string formatted)
    {
        var timestamp = FirestoreTimestamp.Parse(text);
        Assert.Equal(nanos, timestamp.Nanos);
        Assert.Equal(formatted, timestamp.ToString());
        Assert.Equal(timestamp, FirestoreTimestamp.Parse(timestamp.ToString()));
    }

    [Fact]
    public void FromDateTimeOffset_BeforeEpoch_NanosNonNegative()
    {
        var timestamp = FirestoreTimestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddTicks(-1));
        Assert.Equal(new FirestoreTimestamp(-1, 999_999_900), timestamp);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(-1), timestamp.ToDateTimeOffset());
    }

    [Theory]
    [InlineData("2024-01-02 03:04:05Z")]
    [InlineData("2024-01-02T03:04:05.1234567891Z")]
    [InlineData("yesterday")]
    public void Parse_NotRfc3339_Throws(string text) =>
        Assert.Throws<FormatException>(() => FirestoreTimestamp.Parse(text));

    [Fact]
    public void Encode_UnsupportedType_ThrowsNamingIt() =>
        Assert.Contains("Guid", Assert.Throws<ArgumentException>(() => FirestoreValues.Encode(Guid.Empty)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("status", "status")]
    [InlineData("steps.build_1", "steps.build_1")]
    [InlineData("jobs.e2e-test", "jobs.`e2e-test`")]
    [InlineData("a.1x", "a.`1x`")]
    [InlineData("back`tick", "`back\\`tick`")]
    public void FieldPathEncode_NonIdentifierSegments_Backquoted(string path, string wire) =>
        Assert.Equal(wire, FieldPath.Encode(path));

    [Fact]
    public void UpdateWrite_DottedPaths_NestedFieldsAndMask()
    {
        var write = FirestoreWrite.Update("runs/r", new Dictionary<string, object?> { ["steps.e2e-test"] = "ok", ["phase"] = "Done" });

        var json = write.ToJson(path => "projects/p/databases/(default)/documents/" + path);

        Assert.Equal("ok", json["update"]!["fields"]!["steps"]!["mapValue"]!["fields"]!["e2e-test"]!["stringValue"]!.GetValue<string>());
        Assert.Equal(["steps.`e2e-test`", "phase"], json["updateMask"]!["fieldPaths"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.True(json["currentDocument"]!["exists"]!.GetValue<bool>());
    }

    [Fact]
    public void UpdateWrite_OverlappingPaths_Throws() =>
        Assert.Throws<ArgumentException>(() => FirestoreWrite.Update("runs/r", new Dictionary<string, object?> { ["a"] = 1, ["a.b"] = 2 })
            .ToJson(path => path));

    [Fact]
    public void IsIdempotent_IncrementWithoutVersionPrecondition_False()
    {
        Assert.False(FirestoreWrite.Transform("c/d", [FieldTransform.Increment("n", 1)]).IsIdempotent);
        Assert.False(FirestoreWrite.Transform("c/d", [FieldTransform.Increment("n", 1)], FirestorePrecondition.MustExist).IsIdempotent);
        Assert.True(FirestoreWrite.Transform("c/d", [FieldTransform.Increment("n", 1)], FirestorePrecondition.LastUpdated(new FirestoreTimestamp(1, 0))).IsIdempotent);
        Assert.True(FirestoreWrite.Transform("c/d", [FieldTransform.AppendMissingElements("a", "x"), FieldTransform.ServerTimestamp("t")]).IsIdempotent);
        Assert.True(FirestoreWrite.Set("c/d", new Dictionary<string, object?>()).IsIdempotent);
    }

    private static object? RoundTrip(object? value) => FirestoreValues.Decode(Reparse(FirestoreValues.Encode(value)));

    // Through text, as on the wire, so number and string representations are really exercised.
    private static JsonNode? Reparse(JsonNode json) => JsonNode.Parse(json.ToJsonString());
}
