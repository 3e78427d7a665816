return await Churn.Server.ChurnServer.RunAsync(args);
