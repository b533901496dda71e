using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace Kfci.Firestore;

/// <summary>Comparison of a field filter.</summary>
public enum FilterOperator
{
    Equal,
    NotEqual,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
    ArrayContains,
    In,
    NotIn,
    ArrayContainsAny,
}

/// <summary>
/// An immutable structured query over one collection (<c>runQuery</c>): AND-ed field filters, ordering,
/// a limit and an optional start cursor. Each builder method returns a new query.
/// </summary>
public sealed record FirestoreQuery
{
    /// <param name="collectionId">The collection's id (<c>runs</c>), not a path.</param>
    /// <param name="parent">Path of the parent document for a sub-collection; null for a top-level collection.</param>
    public FirestoreQuery(string collectionId, string? parent = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(collectionId);
        CollectionId = collectionId.Contains('/', StringComparison.Ordinal)
            ? throw new ArgumentException($"'{collectionId}' is a path; give the parent document separately", nameof(collectionId))
            : collectionId;
        Parent = parent;
    }

    /// <summary>
    /// A query over every collection with this id, wherever it is nested (<c>runs/*/workflows</c>): a collection-group
    /// query. Filters on it need a collection-group index (Terraform's <c>google_firestore_field</c>).
    /// </summary>
    public static FirestoreQuery CollectionGroup(string collectionId) => new FirestoreQuery(collectionId) { AllDescendants = true };

    public string CollectionId { get; }

    public string? Parent { get; }

    /// <summary>True for a <see cref="CollectionGroup"/> query.</summary>
    public bool AllDescendants { get; private init; }

    public ImmutableList<(string Field, FilterOperator Operator, object? Value)> Filters { get; private init; } = [];

    public ImmutableList<(string Field, bool Descending)> Orderings { get; private init; } = [];

    public int? MaxResults { get; private init; }

    /// <summary>Cursor values in <see cref="Orderings"/> order, and whether the cursor row itself is included.</summary>
    public (IReadOnlyList<object?> Values, bool Inclusive)? Start { get; private init; }

    /// <summary>Adds a filter (AND-ed with the others). <c>== null</c>, <c>!= null</c>, <c>== NaN</c> and <c>!= NaN</c> become unary filters.</summary>
    public FirestoreQuery Where(string field, FilterOperator op, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(field);
        return this with { Filters = Filters.Add((field, op, value)) };
    }

    public FirestoreQuery OrderBy(string field) => Order(field, descending: false);

    public FirestoreQuery OrderByDescending(string field) => Order(field, descending: true);

    public FirestoreQuery Limit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return this with { MaxResults = count };
    }

    /// <summary>Starts at the row with these order-by values (included).</summary>
    public FirestoreQuery StartAt(params IEnumerable<object?> values) => this with { Start = ([.. values], true) };

    /// <summary>Starts just after the row with these order-by values.</summary>
    public FirestoreQuery StartAfter(params IEnumerable<object?> values) => this with { Start = ([.. values], false) };

    internal JsonObject ToJson()
    {
        var from = new JsonObject { ["collectionId"] = CollectionId };
        if (AllDescendants)
        {
            from["allDescendants"] = true;
        }

        var query = new JsonObject { ["from"] = new JsonArray(from) };
        if (Filters.Count == 1)
        {
            query["where"] = FilterJson(Filters[0]);
        }
        else if (Filters.Count > 1)
        {
            query["where"] = new JsonObject
            {
                ["compositeFilter"] = new JsonObject
                {
                    ["op"] = "AND",
                    ["filters"] = new JsonArray([.. Filters.Select(f => (JsonNode)FilterJson(f))]),
                },
            };
        }

        if (Orderings.Count > 0)
        {
            query["orderBy"] = new JsonArray([.. Orderings.Select(o => (JsonNode)new JsonObject
            {
                ["field"] = FieldReference(o.Field),
                ["direction"] = o.Descending ? "DESCENDING" : "ASCENDING",
            })]);
        }

        if (Start is { } start)
        {
            query["startAt"] = new JsonObject
            {
                ["values"] = new JsonArray([.. start.Values.Select(v => (JsonNode)FirestoreValues.Encode(v))]),
                ["before"] = start.Inclusive,
            };
        }

        if (MaxResults is { } limit)
        {
            query["limit"] = limit;
        }

        return query;
    }

    private FirestoreQuery Order(string field, bool descending)
    {
        ArgumentException.ThrowIfNullOrEmpty(field);
        return this with { Orderings = Orderings.Add((field, descending)) };
    }

    private static JsonObject FilterJson((string Field, FilterOperator Operator, object? Value) filter) =>
        UnaryOperator(filter.Operator, filter.Value) is { } unary
            ? new JsonObject { ["unaryFilter"] = new JsonObject { ["op"] = unary, ["field"] = FieldReference(filter.Field) } }
            : new JsonObject
            {
                ["fieldFilter"] = new JsonObject
                {
                    ["field"] = FieldReference(filter.Field),
                    ["op"] = OperatorName(filter.Operator),
                    ["value"] = FirestoreValues.Encode(filter.Value),
                },
            };

    // Firestore compares nothing with null or NaN: equality tests on them are separate unary operators.
    private static string? UnaryOperator(FilterOperator op, object? value) => (op, value) switch
    {
        (FilterOperator.Equal, null) => "IS_NULL",
        (FilterOperator.NotEqual, null) => "IS_NOT_NULL",
        (FilterOperator.Equal, double d) when double.IsNaN(d) => "IS_NAN",
        (FilterOperator.NotEqual, double d) when double.IsNaN(d) => "IS_NOT_NAN",
        _ => null,
    };

    // NOT_EQUAL, IN, NOT_IN and ARRAY_CONTAINS_ANY postdate the 2019 discovery document kfci was written against;
    // the service and the emulator accept them.
    private static string OperatorName(FilterOperator op) => op switch
    {
        FilterOperator.Equal => "EQUAL",
        FilterOperator.NotEqual => "NOT_EQUAL",
        FilterOperator.LessThan => "LESS_THAN",
        FilterOperator.LessThanOrEqual => "LESS_THAN_OR_EQUAL",
        FilterOperator.GreaterThan => "GREATER_THAN",
        FilterOperator.GreaterThanOrEqual => "GREATER_THAN_OR_EQUAL",
        FilterOperator.ArrayContains => "ARRAY_CONTAINS",
        FilterOperator.In => "IN",
        FilterOperator.NotIn => "NOT_IN",
        FilterOperator.ArrayContainsAny => "ARRAY_CONTAINS_ANY",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static JsonObject FieldReference(string field) => new() { ["fieldPath"] = FieldPath.Encode(field) };
}
