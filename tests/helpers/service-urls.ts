// Where the tests look for real services (override with the RETRACK_TEST_* variables).
export interface Services {
  postgresAdminUrl: string
  redisUrl: string
  mosquittoUrl: string
  postgres: boolean
  redis: boolean
  mosquitto: boolean
  mosquittoClients: boolean
}

export function serviceUrls() {
  return {
    postgresAdminUrl: process.env.RETRACK_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.RETRACK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    mosquittoUrl: process.env.RETRACK_TEST_MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883',
  }
}
