using Churn.Server.Errors;

namespace Churn.Server.Tests;

/// <summary>
/// The body check answers the same whether its allocation-free pass settles a body or hands it to the pass that names
/// fields: the cases here sit on the line between the two (escapes, many names, names repeated at other depths).
/// </summary>
public sealed class JsonBodyCheckTests
{
    private static string Names(int count, string? last = null) =>
        "{" + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"f{i}\": {i}")) + (last is null ? "" : $", \"{last}\": 0") + "}";

    public static TheoryData<string> Accepted() => new()
    {
        """{"a": {"x": 1}, "b": {"x": 1}}""",
        """{"x": {"x": {"x": 1}}, "y": [{"x": 1}, {"x": 2}]}""",
        """{"region": "caf\u00e9 \"quoted\" \ud83d\ude00"}""",
        "{\"long\": \"" + string.Concat(Enumerable.Repeat("\\u00e9", 200)) + "\"}",
        Names(300),
        """[1, "two", null, true, {"a": []}]""",
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void AWellFormedBodyPasses(string body) => JsonBodyCheck.Check(Encoding.UTF8.GetBytes(body));

    public static TheoryData<string, string, int> Refused() => new()
    {
        { """{"x": {"y": 1}, "x": 2}""", "x", 422 },
        { """{"a": {"x": 1, "y": 2, "x": 3}}""", "a.x", 422 },
        { """{"a": 1, "\u0061": 2}""", "a", 422 },
        { Names(300, "f299"), "f299", 422 },
        { Names(10, "f3"), "f3", 422 },
        { """{"region": "\ud800"}""", "region", 400 },
        { "{\"region\": \"" + string.Concat(Enumerable.Repeat("\\u00e9", 200)) + "\\udc00\"}", "region", 400 },
        { """{"a": [1, NaN]}""", "a[1]", 400 },
        { """{"a": 1,}""", "$", 400 },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void ABodyWithAProblemIsRefusedNamingTheField(string body, string field, int status)
    {
        var refused = Assert.Throws<InvalidBodyException>(() => JsonBodyCheck.Check(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(field, refused.Field);
        Assert.Equal(status, refused.Status);
    }
}
