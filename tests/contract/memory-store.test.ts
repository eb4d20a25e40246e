import { MemoryPresenceStore, MemoryStateStore } from '../../src/state/memory.js'
import { stateStoreContract } from './state-store-suite.js'

stateStoreContract('memory', { state: async () => new MemoryStateStore(), presence: async () => new MemoryPresenceStore() })
