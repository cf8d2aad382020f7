export { createStores, type Connections, type Stores, type StoresOptions } from './create-stores.js';
