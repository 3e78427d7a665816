using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Churn.Core.Generation;
using Churn.Core.Schema;

namespace Churn.Reliability.Tests.Fixtures;

/// <summary>Valid request bodies built from generated customers, so they always match the served model's schema.</summary>
public static class Bodies
{
    public static List<JsonObject> Customers(int count, int seed = 7)
    {
        var schema = CustomerGenerator.Schema;
        var customers = new List<JsonObject>();
        if (count == 0)
        {
            return customers;
        }
        foreach (var cells in new CustomerGenerator().Rows(new GeneratorOptions { Rows = count, Seed = seed }))
        {
            var features = new JsonObject();
            for (var f = 0; f < schema.Features.Count; f++)
            {
                var cell = cells[f + 1];
                features[schema.Features[f].Name] = string.IsNullOrEmpty(cell) ? null : schema.Features[f].Kind switch
                {
                    FeatureKind.Numeric => JsonValue.Create(double.Parse(cell, CultureInfo.InvariantCulture)),
                    FeatureKind.Boolean => JsonValue.Create(cell == "Yes"),
                    _ => JsonValue.Create(cell),
                };
            }
            customers.Add(new JsonObject { ["customerId"] = cells[0], ["features"] = features });
        }
        return customers;
    }

    public static JsonObject Customer(int seed = 7) => Customers(1, seed)[0];

    public static string Csv(int rows, int seed = 7)
    {
        var writer = new StringWriter();
        new CustomerGenerator().WriteCsv(new GeneratorOptions { Rows = rows, Seed = seed }, writer);
        return writer.ToString();
    }

    public static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
}
