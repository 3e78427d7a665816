using System.Text.Json.Nodes;
using Churn.Server.Security;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Churn.Server.ApiDocs;

/// <summary>The OpenAPI document (<c>/openapi/v1.json</c>) with example bodies, and the Scalar page (<c>/scalar/v1</c>).</summary>
public static class ApiDocumentation
{
    public const string Example = """
        {"customerId": "C-1001", "customerValue": 1200,
         "features": {"tenureMonths": 5, "contract": "Month-to-month", "monthlyCharges": 89.5, "totalCharges": 447.5,
                      "internetService": "Fiber optic", "paymentMethod": "Electronic check", "paperlessBilling": true,
                      "seniorCitizen": false, "partner": false, "dependents": false, "techSupport": false, "supportCalls": 4,
                      "monthlyUsageGb": 120, "lastLoginDaysAgo": 12, "satisfactionScore": 2, "region": "North"}}
        """;

    private static readonly Dictionary<string, string> Examples = new(StringComparer.Ordinal)
    {
        ["POST predict"] = Example,
        ["POST predict/batch"] = $$"""{"customers": [{{Example}}]}""",
        ["POST feedback"] = """{"customerId": "C-1001", "churned": true, "observedAt": "2026-01-31T00:00:00Z"}""",
        ["POST retrain"] = """{"rows": 20000, "seed": 7, "drift": 0.3}""",
        ["PUT config"] = """{"api": {"rate_limit": 200, "timeout": "00:00:20"}}""",
        ["POST keys"] = """{"name": "crm-service", "role": "service"}""",
        ["POST invocations"] = """{"dataframe_records": [{"tenureMonths": 5, "contract": "Month-to-month", "monthlyCharges": 89.5, "totalCharges": 447.5, "internetService": "Fiber optic", "paymentMethod": "Electronic check", "paperlessBilling": "Yes", "seniorCitizen": "No", "partner": "No", "dependents": "No", "techSupport": "No", "supportCalls": 4, "monthlyUsageGb": 120, "lastLoginDaysAgo": 12, "satisfactionScore": 2, "region": "North"}]}""",
    };

    public static IHostApplicationBuilder AddApiDocumentation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Churn API";
                document.Info.Description = $"Customer-churn predictions. Authenticate with the {ApiKeyAuthenticationHandler.Header} header; `./churn serve` prints the admin key at first start.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.Header,
                    Description = "An API key; roles admin, analyst, service, viewer.",
                };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] });
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var key = $"{context.Description.HttpMethod} {context.Description.RelativePath?.TrimEnd('/')}";
                if (Examples.TryGetValue(key, out var example) && operation.RequestBody?.Content is { } content)
                {
                    foreach (var media in content.Where(c => c.Key.Contains("json", StringComparison.Ordinal)))
                    {
                        media.Value.Example = JsonNode.Parse(example);
                    }
                }
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapApiDocumentation(this IEndpointRouteBuilder routes)
    {
        // The documents describe the API and hold no data, so they are readable without a key.
        routes.MapOpenApi().AllowAnonymous().DisableRateLimiting();
        routes.MapScalarApiReference(options => options.WithTitle("Churn API")).AllowAnonymous().DisableRateLimiting();
        return routes;
    }
}
