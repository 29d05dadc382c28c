/**
 * Preload (`node --require`) that gives every new AbortSignal the listener limit Node 20 and 22 give it (10, the
 * EventTarget default; Node 24 made it unlimited), so a test on Node 24 sees the MaxListenersExceededWarning a
 * user on an older Node would see when more than 10 calls listen on one signal.
 */
const { setMaxListeners } = require('node:events');
const Native = globalThis.AbortController;
globalThis.AbortController = class extends Native {
	constructor() {
		super();
		setMaxListeners(10, this.signal);
	}
};
const any = AbortSignal.any.bind(AbortSignal);
AbortSignal.any = (signals) => {
	const signal = any(signals);
	setMaxListeners(10, signal);
	return signal;
};
