using Backprop.Data;
using Backprop.IO;
using Backprop.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Tests.IO;

/// <summary>
/// The ONNX export of a table model takes the raw table: one input per column, the encoders as ai.onnx.ml operators;
/// ONNX Runtime gives the tool's predictions on every row of penguins and cars.
/// </summary>
public sealed class OnnxTableTests
{
    private static (Model<float> Model, TableFile File, Dataset All) Train(string path, string label)
    {
        var options = new CsvOptions { LabelColumn = label };
        var file = TableFiles.ReadTable(path, options);
        var prepared = TableFiles.Prepare(file, options, 0.3, 1);
        var (train, _) = prepared.Data.Split(0.3, 1);
        var model = Model.For(train).WithSchema(prepared.Schema).WithTable(prepared.Pipeline).Preprocess(PreprocessingKind.Standardize)
            .Dense(32).Build(seed: 1);
        model.Fit(train, new TrainingOptions { Epochs = 30 });
        // Every row of the file, labelled or not, as predict reads it.
        var all = TableFiles.ReadFor(model.Schema, model.Table!, path, options, requireLabels: false, new EncodeCounts());
        return (model, file, all);
    }

    private static float[] RunOnnx(Model<float> model, RawTable table)
    {
        using var session = new InferenceSession(OnnxExport.ToBytes(model));
        var inputs = new List<NamedOnnxValue>();
        foreach (var c in model.Table!.Columns)
        {
            int col = table.IndexOf(c.Name);
            int n = table.Rows;
            if (c.Kind is ColumnKind.Numeric or ColumnKind.Boolean)
            {
                var x = new float[n];
                for (int r = 0; r < n; r++)
                    x[r] = RawTable.TryNumber(table[r, col]?.Trim(), out double v) ? (float)v : float.NaN;
                inputs.Add(NamedOnnxValue.CreateFromTensor(c.Name, new DenseTensor<float>(x, [n, 1])));
            }
            else
            {
                var s = Enumerable.Range(0, n).Select(r => table[r, col]?.Trim() ?? "").ToArray();
                inputs.Add(NamedOnnxValue.CreateFromTensor(c.Name, new DenseTensor<string>(s, [n, 1])));
            }
        }
        using var results = session.Run(inputs);
        return results.First().AsEnumerable<float>().ToArray();
    }

    [Fact]
    public void Penguins_OnnxRuntimeGivesTheToolsClassOnEveryRow()
    {
        var (model, file, all) = Train(TestData.Require("penguins", "penguins.csv"), "Species");
        var onnx = RunOnnx(model, file.Table);
        var ours = model.PredictAll(all);
        Assert.Equal(ours.Length, onnx.Length);
        int outs = model.Network.Outputs;
        for (int r = 0; r < all.Rows; r++)
        {
            Assert.Equal(ClassRule.Predict<double>(ours.AsSpan(r * outs, outs)), ClassRule.Predict<float>(onnx.AsSpan(r * outs, outs)));
            for (int k = 0; k < outs; k++)
                Assert.Equal(ours[r * outs + k], onnx[r * outs + k], 1e-4);
        }
    }

    [Fact]
    public void DatesCategoriesAndMissingValues_OnnxRuntimeComputesEveryFeatureAsTheTool()
    {
        // Dates over several years, months, weekdays and days of the year (before 1970 too), a category with rare and
        // missing values, numbers with missing ones.
        var sb = new System.Text.StringBuilder("when,color,size,y\n");
        for (int i = 0; i < 120; i++)
        {
            string date = i % 17 == 3 ? "" : new DateTime(1965 + i % 12, 1 + i * 5 % 12, 1 + i * 7 % 28).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            string color = i % 23 == 0 ? "teal" : i % 19 == 4 ? "NA" : (i % 3) switch { 0 => "red", 1 => "green", _ => "blue" };
            string size = i % 13 == 2 ? "?" : (i % 10 * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture);
            sb.Append($"{date},{color},{size},{(i % 3 == 0 ^ i % 10 > 5 ? "A" : "B")}\n");
        }
        using var dir = new TempDirectory();
        string path = dir.File("dates.csv");
        File.WriteAllText(path, sb.ToString());
        var (model, file, all) = Train(path, "y");
        var when = model.Table!.Columns.Single(c => c.Kind == ColumnKind.Date);
        Assert.Equal(["month", "weekday", "yearday"], when.DateParts);
        Assert.True(when.Indicator);
        Assert.True(model.Table.Columns.Single(c => c.Name == "color").Other);
        var onnx = RunOnnx(model, file.Table);
        var ours = model.PredictAll(all);
        for (int i = 0; i < ours.Length; i++)
            Assert.Equal(ours[i], onnx[i], 1e-4);
    }

    [Fact]
    public void Cars_OnnxRuntimeGivesTheToolsValueOnEveryRow()
    {
        var (model, file, all) = Train(TestData.Require("cars", "cars.csv"), "Miles_per_Gallon");
        Assert.Contains(model.Table!.Columns, c => c.Kind == ColumnKind.Date);
        var onnx = RunOnnx(model, file.Table);
        var ours = model.PredictAll(all);
        Assert.Equal(file.Table.Rows, onnx.Length);
        for (int r = 0; r < all.Rows; r++)
            Assert.True(Math.Abs(ours[r] - onnx[r]) <= 1e-3 * Math.Max(1, Math.Abs(ours[r])), $"row {r}: {ours[r]} against {onnx[r]}");
    }
}
