// Writes the generated Parquet table of the streaming measurement (docs/distributed.md, "Streaming"):
//   dotnet run -c Release --project bench/Backprop.Bench.Distributed -- OUT.parquet ROWS [FEATURES] [ROW_GROUP_ROWS]
using System.Globalization;
using Backprop.Distributed;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Backprop.Bench.Distributed OUT.parquet ROWS [FEATURES] [ROW_GROUP_ROWS]");
    return 2;
}
long rows = long.Parse(args[1], CultureInfo.InvariantCulture);
int features = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
int group = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 65_536;
SyntheticParquet.Write(args[0], rows, features, classes: 3, seed: 1, rowGroupRows: group);
Console.WriteLine($"wrote {rows} rows x {features} features + label to {args[0]} ({new FileInfo(args[0]).Length} bytes)");
return 0;
