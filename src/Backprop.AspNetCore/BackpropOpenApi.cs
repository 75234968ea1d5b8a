using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Backprop.AspNetCore;

/// <summary>
/// Completes the OpenAPI document that ASP.NET Core's built-in generator (<c>AddOpenApi</c>) makes of the serving
/// endpoints: the title, and <c>/predict</c>'s body, which is one record, an array of records or CSV (a shape the
/// endpoint metadata alone cannot say).
/// </summary>
public static class BackpropOpenApi
{
    /// <summary>Adds the transformers for the endpoints of the model <paramref name="modelName"/> to <paramref name="options"/>.</summary>
    public static OpenApiOptions Describe(OpenApiOptions options, string modelName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(modelName);
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = $"Backprop model server: {modelName}",
                Version = typeof(BackpropOpenApi).Assembly.GetName().Version?.ToString(3) ?? "0",
                Description = "Predictions from a Backprop model file, hot-reloaded when the file changes. Every error is a 4xx or 503 JSON object " +
                              "{\"error\": message, \"field\": what it is about}.",
            };
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var ours = typeof(BackpropOpenApi).Assembly;
            // Numbers are written as numbers (the web defaults would also allow strings, which these answers never hold).
            if (context.JsonPropertyInfo?.DeclaringType.Assembly == ours && schema.Type is { } type
                && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
            {
                schema.Type = type & ~JsonSchemaType.String;
                schema.Pattern = null;
            }
            // A field that may be null is left out of the answer instead: not required.
            if (context.JsonTypeInfo.Type.Assembly == ours && schema.Required is { } required)
                foreach (var property in context.JsonTypeInfo.Properties)
                    if (property.IsGetNullable)
                        required.Remove(property.Name);
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, _, _) =>
        {
            if (operation.OperationId != $"{modelName}-predict")
                return Task.CompletedTask;
            var body = operation.RequestBody as OpenApiRequestBody ?? new OpenApiRequestBody();
            operation.RequestBody = body;
            var record = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "One record: column name to raw value (the model's pipeline is applied on the server).",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double" },
            };
            var positional = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Description = "One record by position: the model's inputs in order.",
                Items = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double" },
            };
            body.Required = true;
            body.Description = "One record, an array of records, or CSV with a header line naming the columns.";
            body.Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/json"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        OneOf =
                        [
                            record,
                            new OpenApiSchema { Type = JsonSchemaType.Array, MinItems = 1, Items = new OpenApiSchema { OneOf = [record, positional] } },
                        ],
                    },
                },
                ["text/csv"] = new()
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A header line naming the columns, then one record a line." },
                },
            };
            return Task.CompletedTask;
        });
        return options;
    }
}
