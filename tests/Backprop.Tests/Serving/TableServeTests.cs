using System.Net;
using Backprop.Tests.Data;

namespace Backprop.Tests.Serving;

/// <summary>/predict on a table model: raw values by column name or in column order, encoded by the model's own pipeline.</summary>
public sealed class TableServeTests
{
    [Fact]
    public async Task Predict_RawRecords_AsTheLibraryPredictsThem()
    {
        var (model, _) = TableTests.TrainOnTable();
        await using var server = await LiveServer.Start(model, name: "table");
        var (status, body, _) = await server.Post(
            """[{"when": "2003-04-15", "color": "green"}, {"color": "purple", "size": 3, "when": null}, ["red", "2", "2001-01-11"]]""");
        Assert.Equal(HttpStatusCode.OK, status);
        var predictions = body.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(3, predictions.Length);
        var expected = model.Predict(new Dictionary<string, string> { ["color"] = "green", ["when"] = "2003-04-15" });
        var got = model.ClassNames.Select(c => predictions[0].GetProperty("probabilities").GetProperty(c).GetDouble()).ToArray();
        for (int k = 0; k < expected.Length; k++)
            Assert.Equal(expected[k], got[k], 5);
        var (bad, error, _) = await server.Post("""[["red"]]""");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Contains("raw column(s)", error.ToString());
    }
}
