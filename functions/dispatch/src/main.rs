use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = shared::Config::from_env_or_exit();
    let dispatcher = &dispatch::Dispatcher::new(&config).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        let time_left =
            event.context.deadline().duration_since(std::time::SystemTime::now()).unwrap_or_default();
        dispatcher.invoke(event.payload, time_left).await.map_err(Error::from)
    }))
    .await
}
