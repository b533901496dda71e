using Kfci.Cli.Engine;

namespace Kfci.Tests.Engine;

public sealed class ExpressionsTests
{
    [Theory]
    [InlineData("heads == heads", true)]
    [InlineData("heads == tails", false)]
    [InlineData("'a b' != 'a c'", true)]
    [InlineData("8 > 10", false)]
    [InlineData("10 > 8", true)]
    [InlineData("5 <= 5 && 6 >= 7", false)]
    [InlineData("5 < 3 || (tails == tails && !(1 == 2))", true)]
    [InlineData("hello =~ 'h.*o'", true)]
    [InlineData("true", true)]
    public void EvaluateWhen_SimpleComparisons(string expression, bool expected) =>
        Assert.Equal(expected, Expressions.EvaluateWhen(expression));

    [Theory]
    [InlineData("a ==")]
    [InlineData("(a == a")]
    [InlineData("banana")]
    public void EvaluateWhen_Malformed_Throws(string expression) =>
        Assert.Throws<FormatException>(() => Expressions.EvaluateWhen(expression));

    [Fact]
    public void EvaluateDepends_ResolvesTaskTerms()
    {
        var terms = new Dictionary<string, bool> { ["A"] = true, ["B.Failed"] = false, ["C.Succeeded"] = true };
        Assert.True(Expressions.EvaluateDepends("A && (B.Failed || C.Succeeded)", t => terms[t]));
        Assert.False(Expressions.EvaluateDepends("A && B.Failed", t => terms[t]));
        Assert.Equal(["A", "B", "C"], Expressions.DependsTasks("A && (B.Failed || !C.Succeeded)"));
    }

    [Fact]
    public void Substitute_KnownNamesOnly_LeavesOthersForLater()
    {
        var variables = new Dictionary<string, string> { ["inputs.parameters.x"] = "1" };
        Assert.Equal("1 {{steps.a.outputs.result}}", Expressions.Substitute("{{ inputs.parameters.x }} {{steps.a.outputs.result}}", variables));
        Assert.Equal("{{steps.a.outputs.result}}", Expressions.FirstUnresolved(System.Text.Json.Nodes.JsonNode.Parse("""{"a":["{{steps.a.outputs.result}}"]}""")));
    }
}
