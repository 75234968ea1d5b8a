using Backprop.Cli;

return App.Run(args);
