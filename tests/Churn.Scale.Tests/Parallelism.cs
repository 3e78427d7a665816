// Each collection here starts a deployment of its own (PostgreSQL, replicas, perhaps Redis and nginx); run side by side
// on a small machine they would only slow each other down, and the fault soak's memory and handle readings would
// include the other deployment's load.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
